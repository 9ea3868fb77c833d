// deephyper-ts/hpo: search spaces, the CBO and random-search optimizers, multi-objective helpers.
export type { AskTellOptimizer, Config, Evaluation, Objective, ParamValue } from './types.js';
export {
  HpProblem,
  type AddOptions,
  type Condition,
  type ConstraintFn,
  type ForbiddenClause,
  type Hyperparameter,
  type HyperparameterSpec,
  type Prior,
  type RangeSpec,
} from './problem.js';
export { CBO, type CBOOptions, type Surrogate, type AcqOptimizer, type MultiPointStrategy, type FilterFailures } from './cbo.js';
export { RandomSearch, type RandomSearchOptions } from './random-search.js';
export { SearchBase, type BaseOptions } from './base.js';
export { paretoFront, dominates, scalarize, randomSimplexWeights, SCALARIZATIONS, type Scalarization } from './moo.js';
export { rescale, clipOutliers, OBJECTIVE_SCALERS, type ObjectiveScaler } from './scaling.js';
export { periodicExpDecay, scheduledKappa, DEFAULT_SCHEDULER, type AcqFunc, type SchedulerOptions } from './acquisition.js';
export { Forest, EXTRA_TREES_DEFAULTS, RANDOM_FOREST_DEFAULTS, type ForestOptions, type Prediction } from './forest.js';
export { Rng } from './rng.js';
export { HpoError, ProblemFileError, type HpoErrorCode } from './errors.js';
