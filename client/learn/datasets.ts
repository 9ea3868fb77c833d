// Small synthetic data sets generated from a seed: enough structure that hyperparameters matter, small enough
// that an epoch takes milliseconds. Features are row-major in one Float64Array.

import { LearnConfigError, requireInteger, requireNumber } from './errors.js';
import { SeededRandom } from './random.js';

export type Task = 'classification' | 'regression';

export interface Dataset {
  readonly name: string;
  readonly task: Task;
  readonly size: number;
  readonly numFeatures: number;
  /** Number of classes for classification; 1 for regression. */
  readonly numClasses: number;
  /** size × numFeatures, row-major. */
  readonly x: Float64Array;
  /** Class index (classification) or target value (regression), one per row. */
  readonly y: Float64Array;
}

export interface TrainValidation {
  readonly train: Dataset;
  readonly validation: Dataset;
}

export interface GeneratorOptions {
  /** Number of points (default 1000). */
  size?: number;
  /** Noise level; its meaning depends on the generator. */
  noise?: number;
  seed?: number;
}

function common(options: GeneratorOptions, defaultNoise: number): { size: number; noise: number; rng: SeededRandom } {
  const size = requireInteger('size', options.size ?? 1000, 2);
  const noise = requireNumber('noise', options.noise ?? defaultNoise, 0);
  return { size, noise, rng: new SeededRandom(options.seed ?? 0) };
}

/** Two interleaving half circles, 2 features, 2 classes (Gaussian noise of std `noise`, default 0.2). */
export function makeMoons(options: GeneratorOptions = {}): Dataset {
  const { size, noise, rng } = common(options, 0.2);
  const x = new Float64Array(size * 2);
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % 2;
    const t = Math.PI * rng.next();
    const px = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const py = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    x[2 * i] = px + noise * rng.normal();
    x[2 * i + 1] = py + noise * rng.normal();
    y[i] = label;
  }
  return shuffled({ name: 'moons', task: 'classification', size, numFeatures: 2, numClasses: 2, x, y }, rng);
}

export interface SpiralOptions extends GeneratorOptions {
  /** Number of arms = classes (default 3). */
  arms?: number;
  /** Number of turns of each arm (default 1.75). */
  turns?: number;
}

/** Interleaved spiral arms, 2 features, one class per arm (angular noise `noise` in radians, default 0.4). */
export function makeSpirals(options: SpiralOptions = {}): Dataset {
  const { size, noise, rng } = common(options, 0.4);
  const arms = requireInteger('arms', options.arms ?? 3, 2);
  const turns = requireNumber('turns', options.turns ?? 1.75, 0.1);
  const x = new Float64Array(size * 2);
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % arms;
    const r = 0.05 + 0.95 * rng.next();
    const angle = (2 * Math.PI * label) / arms + 2 * Math.PI * turns * r + noise * rng.normal();
    x[2 * i] = r * Math.cos(angle);
    x[2 * i + 1] = r * Math.sin(angle);
    y[i] = label;
  }
  return shuffled({ name: 'spirals', task: 'classification', size, numFeatures: 2, numClasses: arms, x, y }, rng);
}

export interface RegressionOptions extends GeneratorOptions {
  /** Number of features, at least 5; only the first 5 carry signal (default 8). */
  features?: number;
}

/** Friedman #1 regression: y = 10 sin(π x0 x1) + 20 (x2 − ½)² + 10 x3 + 5 x4 + N(0, noise²), x ~ U[0,1]^d. */
export function makeRegression(options: RegressionOptions = {}): Dataset {
  const { size, noise, rng } = common(options, 1);
  const d = requireInteger('features', options.features ?? 8, 5);
  const x = new Float64Array(size * d);
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) x[row + j] = rng.next();
    y[i] =
      10 * Math.sin(Math.PI * x[row]! * x[row + 1]!) +
      20 * (x[row + 2]! - 0.5) ** 2 +
      10 * x[row + 3]! +
      5 * x[row + 4]! +
      noise * rng.normal();
  }
  return { name: 'friedman1', task: 'regression', size, numFeatures: d, numClasses: 1, x, y };
}

export interface DigitsOptions extends GeneratorOptions {
  /** Number of classes (default 10). */
  classes?: number;
  /** Side of the square image (default 8, i.e. 64 features). */
  side?: number;
}

/**
 * A digits-like image set: each class is a random stroke pattern drawn on a side×side grid (from the seed);
 * samples are the pattern shifted by up to one pixel, with stroke dropout and Gaussian pixel noise (`noise`,
 * default 0.35). Pixels are in roughly [0, 1].
 */
export function makeDigits(options: DigitsOptions = {}): Dataset {
  const { size, noise, rng } = common(options, 0.35);
  const classes = requireInteger('classes', options.classes ?? 10, 2);
  const side = requireInteger('side', options.side ?? 8, 4);
  const d = side * side;
  const prototypes: Float64Array[] = [];
  for (let c = 0; c < classes; c++) prototypes.push(drawStrokes(rng, side));
  const x = new Float64Array(size * d);
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % classes;
    const proto = prototypes[label]!;
    const dx = rng.int(3) - 1;
    const dy = rng.int(3) - 1;
    const row = i * d;
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const sr = r - dy;
        const sc = c - dx;
        let v = sr >= 0 && sr < side && sc >= 0 && sc < side ? proto[sr * side + sc]! : 0;
        if (v > 0 && rng.next() < 0.15) v = 0;
        x[row + r * side + c] = v + noise * rng.normal();
      }
    }
    y[i] = label;
  }
  return shuffled({ name: 'digits', task: 'classification', size, numFeatures: d, numClasses: classes, x, y }, rng);
}

function drawStrokes(rng: SeededRandom, side: number): Float64Array {
  const image = new Float64Array(side * side);
  const strokes = 2 + rng.int(2);
  for (let s = 0; s < strokes; s++) {
    let r = 1 + rng.int(side - 2);
    let c = 1 + rng.int(side - 2);
    const length = side - 2 + rng.int(side);
    for (let k = 0; k < length; k++) {
      image[r * side + c] = 1;
      const dir = rng.int(4);
      if (dir === 0) r = Math.min(side - 2, r + 1);
      else if (dir === 1) r = Math.max(1, r - 1);
      else if (dir === 2) c = Math.min(side - 2, c + 1);
      else c = Math.max(1, c - 1);
    }
  }
  return image;
}

function shuffled(ds: Dataset, rng: SeededRandom): Dataset {
  const order = Array.from({ length: ds.size }, (_, i) => i);
  rng.shuffle(order);
  return subset(ds, order);
}

/** Rows `indices` of `ds`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const d = ds.numFeatures;
  const x = new Float64Array(indices.length * d);
  const y = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    x.set(ds.x.subarray(src * d, src * d + d), i * d);
    y[i] = ds.y[src]!;
  }
  return { ...ds, size: indices.length, x, y };
}

export interface SplitOptions {
  /** Fraction of rows held out for validation (default 0.25). */
  validationFraction?: number;
  seed?: number;
  /** Standardize features with the training mean and std (default true). */
  standardize?: boolean;
}

/** Random train/validation split; features standardized with training statistics only. */
export function trainValidationSplit(ds: Dataset, options: SplitOptions = {}): TrainValidation {
  const fraction = requireNumber('validationFraction', options.validationFraction ?? 0.25, 0, 1);
  const nValidation = Math.round(ds.size * fraction);
  if (nValidation < 1 || nValidation >= ds.size) {
    throw new LearnConfigError('validationFraction', `leaves an empty train or validation set for ${ds.size} rows`);
  }
  const order = Array.from({ length: ds.size }, (_, i) => i);
  new SeededRandom(options.seed ?? 0).shuffle(order);
  let validation = subset(ds, order.slice(0, nValidation));
  let train = subset(ds, order.slice(nValidation));
  if (options.standardize ?? true) {
    const { mean, std } = featureStats(train);
    train = standardized(train, mean, std);
    validation = standardized(validation, mean, std);
  }
  return { train, validation };
}

function featureStats(ds: Dataset): { mean: Float64Array; std: Float64Array } {
  const d = ds.numFeatures;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < ds.size; i++) for (let j = 0; j < d; j++) mean[j]! += ds.x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= ds.size;
  for (let i = 0; i < ds.size; i++) for (let j = 0; j < d; j++) std[j]! += (ds.x[i * d + j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]! / ds.size) || 1;
  return { mean, std };
}

function standardized(ds: Dataset, mean: Float64Array, std: Float64Array): Dataset {
  const d = ds.numFeatures;
  const x = new Float64Array(ds.x.length);
  for (let i = 0; i < ds.size; i++) for (let j = 0; j < d; j++) x[i * d + j] = (ds.x[i * d + j]! - mean[j]!) / std[j]!;
  return { ...ds, x };
}

export type DatasetName = 'moons' | 'spirals' | 'friedman1' | 'digits';

/** Generate a named data set (handy for configs and the CLI). */
export function makeDataset(name: DatasetName, options: GeneratorOptions = {}): Dataset {
  switch (name) {
    case 'moons':
      return makeMoons(options);
    case 'spirals':
      return makeSpirals(options);
    case 'friedman1':
      return makeRegression(options);
    case 'digits':
      return makeDigits(options);
    default:
      throw new LearnConfigError('name', `unknown data set "${String(name)}" (moons, spirals, friedman1, digits)`);
  }
}
