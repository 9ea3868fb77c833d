// Small, deterministic machine learning on typed arrays: synthetic data sets and an MLP that reports a
// learning curve epoch by epoch (used by the stopper benchmark and the demos).
export { SeededRandom } from './random.js';
export { LearnConfigError } from './errors.js';
export {
  makeMoons,
  makeSpirals,
  makeRegression,
  makeDigits,
  makeDataset,
  subset,
  trainValidationSplit,
} from './datasets.js';
export type {
  Dataset,
  DatasetName,
  DigitsOptions,
  GeneratorOptions,
  RegressionOptions,
  SpiralOptions,
  SplitOptions,
  Task,
  TrainValidation,
} from './datasets.js';
export { Mlp } from './mlp.js';
export type { Activation, EpochReport, Evaluation, MlpConfig, OptimizerName } from './mlp.js';
