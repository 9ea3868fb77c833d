// A small multilayer perceptron trained by mini-batch gradient descent, in plain TypeScript on Float64Arrays.
// Deterministic from its seed (initialisation, shuffling, dropout), so a configuration always yields the same
// learning curve: what the stopper benchmark and the demos need.

import type { Dataset, TrainValidation } from './datasets.js';
import { LearnConfigError, requireInteger, requireNumber } from './errors.js';
import { SeededRandom } from './random.js';

export type Activation = 'relu' | 'tanh' | 'gelu';
export type OptimizerName = 'sgd' | 'adam';

export interface MlpConfig {
  /** Units of each hidden layer (default 32). */
  hiddenUnits?: number;
  /** Number of hidden layers (default 1; 0 gives a linear/softmax model). */
  layers?: number;
  activation?: Activation;
  /** Step size (default 0.01). */
  learningRate?: number;
  batchSize?: number;
  /** Probability of dropping a hidden unit during training (default 0). */
  dropout?: number;
  /** L2 penalty for sgd, decoupled decay (AdamW) for adam (default 0). */
  weightDecay?: number;
  optimizer?: OptimizerName;
  /** Momentum of sgd (default 0.9). */
  momentum?: number;
  seed?: number;
}

export interface Evaluation {
  /** Mean cross-entropy (classification) or mean squared error on standardized targets (regression). */
  loss: number;
  /** Fraction of correct predictions; classification only. */
  accuracy?: number;
  /** Coefficient of determination; regression only. */
  r2?: number;
  /** The objective to maximize: accuracy for classification, R² for regression. */
  score: number;
}

export interface EpochReport {
  /** 1-based number of the epoch just trained. */
  epoch: number;
  trainLoss: number;
  validation: Evaluation;
}

const DEFAULTS = {
  hiddenUnits: 32,
  layers: 1,
  activation: 'relu' as Activation,
  learningRate: 0.01,
  batchSize: 32,
  dropout: 0,
  weightDecay: 0,
  optimizer: 'adam' as OptimizerName,
  momentum: 0.9,
  seed: 0,
};

const GELU_C = Math.sqrt(2 / Math.PI);

export class Mlp {
  readonly config: Readonly<Required<MlpConfig>>;
  private readonly train: Dataset;
  private readonly validationSet: Dataset;
  private readonly rng: SeededRandom;
  private readonly sizes: number[];
  private readonly weights: Float64Array[] = [];
  private readonly biases: Float64Array[] = [];
  private readonly gradW: Float64Array[] = [];
  private readonly gradB: Float64Array[] = [];
  // Optimizer state: momentum (sgd) or first moment (adam), and second moment (adam).
  private readonly m: Float64Array[] = [];
  private readonly v: Float64Array[] = [];
  private adamStep = 0;
  private readonly targetMean: number;
  private readonly targetStd: number;
  private epochsDone = 0;
  // Per-layer buffers sized for one batch: pre-activations, activations, dropout masks, deltas.
  private readonly pre: Float64Array[] = [];
  private readonly act: Float64Array[] = [];
  private readonly mask: Float64Array[] = [];
  private readonly delta: Float64Array[] = [];
  private readonly order: Int32Array;

  constructor(data: TrainValidation, config: MlpConfig = {}) {
    const c = { ...DEFAULTS, ...config };
    requireInteger('hiddenUnits', c.hiddenUnits, 1);
    requireInteger('layers', c.layers, 0);
    requireNumber('learningRate', c.learningRate, 0);
    requireInteger('batchSize', c.batchSize, 1);
    requireNumber('dropout', c.dropout, 0, 0.95);
    requireNumber('weightDecay', c.weightDecay, 0);
    requireNumber('momentum', c.momentum, 0, 1);
    if (!['relu', 'tanh', 'gelu'].includes(c.activation)) {
      throw new LearnConfigError('activation', `must be relu, tanh or gelu, got "${String(c.activation)}"`);
    }
    if (!['sgd', 'adam'].includes(c.optimizer)) {
      throw new LearnConfigError('optimizer', `must be sgd or adam, got "${String(c.optimizer)}"`);
    }
    if (data.train.numFeatures !== data.validation.numFeatures || data.train.task !== data.validation.task) {
      throw new LearnConfigError('data', 'train and validation sets differ in features or task');
    }
    this.config = c;
    this.train = data.train;
    this.validationSet = data.validation;
    this.rng = new SeededRandom(c.seed);
    const outputs = this.train.task === 'classification' ? this.train.numClasses : 1;
    this.sizes = [this.train.numFeatures, ...Array<number>(c.layers).fill(c.hiddenUnits), outputs];

    if (this.train.task === 'regression') {
      let mean = 0;
      for (let i = 0; i < this.train.size; i++) mean += this.train.y[i]!;
      mean /= this.train.size;
      let variance = 0;
      for (let i = 0; i < this.train.size; i++) variance += (this.train.y[i]! - mean) ** 2;
      this.targetMean = mean;
      this.targetStd = Math.sqrt(variance / this.train.size) || 1;
    } else {
      this.targetMean = 0;
      this.targetStd = 1;
    }

    const batch = Math.max(c.batchSize, 1);
    for (let l = 0; l + 1 < this.sizes.length; l++) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const scale = c.activation === 'tanh' || l + 2 === this.sizes.length ? Math.sqrt(1 / fanIn) : Math.sqrt(2 / fanIn);
      const w = new Float64Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = scale * this.rng.normal();
      this.weights.push(w);
      this.biases.push(new Float64Array(fanOut));
      this.gradW.push(new Float64Array(w.length));
      this.gradB.push(new Float64Array(fanOut));
      this.m.push(new Float64Array(w.length + fanOut));
      this.v.push(new Float64Array(w.length + fanOut));
      this.pre.push(new Float64Array(batch * fanOut));
      this.act.push(new Float64Array(batch * fanOut));
      this.mask.push(new Float64Array(batch * fanOut));
      this.delta.push(new Float64Array(batch * fanOut));
    }
    this.order = new Int32Array(this.train.size);
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
  }

  /** Number of epochs trained so far. */
  get epoch(): number {
    return this.epochsDone;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.weights.reduce((s, w, l) => s + w.length + this.biases[l]!.length, 0);
  }

  /** One pass over the shuffled training set, then an evaluation on the validation set. */
  trainEpoch(): EpochReport {
    this.rng.shuffle(this.order);
    const bs = this.config.batchSize;
    let lossSum = 0;
    for (let start = 0; start < this.train.size; start += bs) {
      const count = Math.min(bs, this.train.size - start);
      lossSum += this.step(start, count) * count;
    }
    this.epochsDone++;
    return { epoch: this.epochsDone, trainLoss: lossSum / this.train.size, validation: this.evaluate(this.validationSet) };
  }

  /** Train `epochs` epochs and return the validation score of each (a learning curve). */
  fit(epochs: number): EpochReport[] {
    requireInteger('epochs', epochs, 0);
    const reports: EpochReport[] = [];
    for (let e = 0; e < epochs; e++) reports.push(this.trainEpoch());
    return reports;
  }

  /** Loss and score on any data set with the same features (no dropout). */
  evaluate(ds: Dataset): Evaluation {
    const bs = this.config.batchSize;
    const rows = new Int32Array(Math.min(bs, ds.size));
    const outputs = this.sizes[this.sizes.length - 1]!;
    let loss = 0;
    let correct = 0;
    let sse = 0;
    let mean = 0;
    for (let i = 0; i < ds.size; i++) mean += ds.y[i]!;
    mean /= ds.size;
    let sst = 0;
    for (let start = 0; start < ds.size; start += bs) {
      const count = Math.min(bs, ds.size - start);
      for (let i = 0; i < count; i++) rows[i] = start + i;
      this.forward(ds, rows, count, false);
      const out = this.act[this.act.length - 1]!;
      for (let i = 0; i < count; i++) {
        const target = ds.y[start + i]!;
        if (ds.task === 'classification') {
          const { logSumExp, argmax } = softmaxStats(out, i * outputs, outputs);
          loss += logSumExp - out[i * outputs + target]!;
          if (argmax === target) correct++;
        } else {
          const prediction = out[i]! * this.targetStd + this.targetMean;
          const z = (target - this.targetMean) / this.targetStd;
          loss += (out[i]! - z) ** 2;
          sse += (prediction - target) ** 2;
          sst += (target - mean) ** 2;
        }
      }
    }
    loss /= ds.size;
    if (ds.task === 'classification') {
      const accuracy = correct / ds.size;
      return { loss, accuracy, score: accuracy };
    }
    const r2 = Number.isFinite(sse) ? 1 - sse / (sst || 1) : -Infinity;
    return { loss, r2, score: r2 };
  }

  private forward(ds: Dataset, rows: Int32Array, count: number, training: boolean): void {
    const d = ds.numFeatures;
    const layers = this.weights.length;
    const dropout = training ? this.config.dropout : 0;
    const keepScale = dropout > 0 ? 1 / (1 - dropout) : 1;
    for (let l = 0; l < layers; l++) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const w = this.weights[l]!;
      const b = this.biases[l]!;
      const pre = this.pre[l]!;
      const act = this.act[l]!;
      const mask = this.mask[l]!;
      const input = l === 0 ? ds.x : this.act[l - 1]!;
      const hidden = l + 1 < layers;
      for (let i = 0; i < count; i++) {
        const inOffset = l === 0 ? rows[i]! * d : i * fanIn;
        for (let o = 0; o < fanOut; o++) {
          let s = b[o]!;
          const wOffset = o * fanIn;
          for (let k = 0; k < fanIn; k++) s += w[wOffset + k]! * input[inOffset + k]!;
          const idx = i * fanOut + o;
          pre[idx] = s;
          if (!hidden) {
            act[idx] = s;
            continue;
          }
          let a = activate(this.config.activation, s);
          if (dropout > 0) {
            const keep = this.rng.next() >= dropout ? keepScale : 0;
            mask[idx] = keep;
            a *= keep;
          }
          act[idx] = a;
        }
      }
    }
  }

  /** Forward, backward and update on rows order[start..start+count); returns the mean batch loss. */
  private step(start: number, count: number): number {
    const ds = this.train;
    const rows = this.order.subarray(start, start + count);
    this.forward(ds, rows, count, true);
    const layers = this.weights.length;
    const outputs = this.sizes[layers]!;
    const out = this.act[layers - 1]!;
    const deltaOut = this.delta[layers - 1]!;
    let loss = 0;
    for (let i = 0; i < count; i++) {
      const target = ds.y[rows[i]!]!;
      if (ds.task === 'classification') {
        const offset = i * outputs;
        const { logSumExp } = softmaxStats(out, offset, outputs);
        loss += logSumExp - out[offset + target]!;
        for (let o = 0; o < outputs; o++) {
          deltaOut[offset + o] = (Math.exp(out[offset + o]! - logSumExp) - (o === target ? 1 : 0)) / count;
        }
      } else {
        const diff = out[i]! - (target - this.targetMean) / this.targetStd;
        loss += diff * diff;
        deltaOut[i] = (2 * diff) / count;
      }
    }

    for (let l = layers - 1; l >= 0; l--) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const w = this.weights[l]!;
      const gw = this.gradW[l]!;
      const gb = this.gradB[l]!;
      const delta = this.delta[l]!;
      gw.fill(0);
      gb.fill(0);
      const input = l === 0 ? ds.x : this.act[l - 1]!;
      for (let i = 0; i < count; i++) {
        const inOffset = l === 0 ? rows[i]! * fanIn : i * fanIn;
        for (let o = 0; o < fanOut; o++) {
          const g = delta[i * fanOut + o]!;
          if (g === 0) continue;
          gb[o]! += g;
          const wOffset = o * fanIn;
          for (let k = 0; k < fanIn; k++) gw[wOffset + k]! += g * input[inOffset + k]!;
        }
      }
      if (l > 0) {
        const prevDelta = this.delta[l - 1]!;
        const prevPre = this.pre[l - 1]!;
        const prevMask = this.mask[l - 1]!;
        const dropout = this.config.dropout > 0;
        prevDelta.fill(0, 0, count * fanIn);
        for (let i = 0; i < count; i++) {
          for (let o = 0; o < fanOut; o++) {
            const g = delta[i * fanOut + o]!;
            if (g === 0) continue;
            const wOffset = o * fanIn;
            const pOffset = i * fanIn;
            for (let k = 0; k < fanIn; k++) prevDelta[pOffset + k]! += g * w[wOffset + k]!;
          }
          for (let k = 0; k < fanIn; k++) {
            const idx = i * fanIn + k;
            let g = prevDelta[idx]! * activationSlope(this.config.activation, prevPre[idx]!);
            if (dropout) g *= prevMask[idx]!;
            prevDelta[idx] = g;
          }
        }
      }
    }
    this.update();
    return loss / count;
  }

  private update(): void {
    const { learningRate: lr, weightDecay: wd, optimizer, momentum } = this.config;
    if (optimizer === 'adam') this.adamStep++;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const correction1 = 1 - beta1 ** this.adamStep;
    const correction2 = 1 - beta2 ** this.adamStep;
    for (let l = 0; l < this.weights.length; l++) {
      const params = [this.weights[l]!, this.biases[l]!];
      const grads = [this.gradW[l]!, this.gradB[l]!];
      const m = this.m[l]!;
      const v = this.v[l]!;
      let offset = 0;
      for (let p = 0; p < 2; p++) {
        const theta = params[p]!;
        const grad = grads[p]!;
        const decay = p === 0 ? wd : 0; // biases are not decayed
        for (let i = 0; i < theta.length; i++) {
          const j = offset + i;
          if (optimizer === 'adam') {
            const g = grad[i]!;
            m[j] = beta1 * m[j]! + (1 - beta1) * g;
            v[j] = beta2 * v[j]! + (1 - beta2) * g * g;
            const mHat = m[j]! / correction1;
            const vHat = v[j]! / correction2;
            theta[i] = theta[i]! - lr * (mHat / (Math.sqrt(vHat) + 1e-8) + decay * theta[i]!);
          } else {
            const g = grad[i]! + decay * theta[i]!;
            m[j] = momentum * m[j]! + g;
            theta[i] = theta[i]! - lr * m[j]!;
          }
        }
        offset += theta.length;
      }
    }
  }
}

function activate(kind: Activation, x: number): number {
  if (kind === 'relu') return x > 0 ? x : 0;
  if (kind === 'tanh') return Math.tanh(x);
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
}

function activationSlope(kind: Activation, x: number): number {
  if (kind === 'relu') return x > 0 ? 1 : 0;
  if (kind === 'tanh') {
    const t = Math.tanh(x);
    return 1 - t * t;
  }
  const t = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
}

function softmaxStats(values: Float64Array, offset: number, n: number): { logSumExp: number; argmax: number } {
  let max = -Infinity;
  let argmax = 0;
  for (let o = 0; o < n; o++) {
    const v = values[offset + o]!;
    if (v > max) {
      max = v;
      argmax = o;
    }
  }
  if (!Number.isFinite(max)) return { logSumExp: NaN, argmax };
  let sum = 0;
  for (let o = 0; o < n; o++) sum += Math.exp(values[offset + o]! - max);
  return { logSumExp: max + Math.log(sum), argmax };
}
