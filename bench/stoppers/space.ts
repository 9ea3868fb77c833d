// The configurations whose learning curves the stopper benchmark records: random MLP hyperparameters, drawn from a
// seed. Shared by record.ts (which trains them) and nothing else: the replay only reads the recorded file.

import type { SeededRandom } from '../../client/learn/random.js';
import type { Activation, MlpConfig, OptimizerName } from '../../client/learn/mlp.js';

function logUniform(rng: SeededRandom, low: number, high: number): number {
  return Math.exp(rng.uniform(Math.log(low), Math.log(high)));
}

function pick<T>(rng: SeededRandom, values: readonly T[]): T {
  return values[rng.int(values.length)]!;
}

export function sampleConfig(rng: SeededRandom): Required<Omit<MlpConfig, 'momentum'>> & { momentum: number } {
  const optimizer = pick<OptimizerName>(rng, ['sgd', 'adam']);
  return {
    hiddenUnits: Math.round(logUniform(rng, 4, 64)),
    layers: pick(rng, [1, 2]),
    activation: pick<Activation>(rng, ['relu', 'tanh', 'gelu']),
    learningRate: Number(logUniform(rng, optimizer === 'adam' ? 1e-4 : 1e-3, optimizer === 'adam' ? 0.05 : 0.5).toPrecision(3)),
    batchSize: pick(rng, [16, 32, 64, 128]),
    dropout: Number((rng.next() < 0.5 ? 0 : rng.uniform(0, 0.5)).toFixed(3)),
    weightDecay: Number((rng.next() < 0.5 ? 0 : logUniform(rng, 1e-6, 1e-2)).toPrecision(3)),
    optimizer,
    momentum: 0.9,
    seed: rng.int(1 << 30),
  };
}
