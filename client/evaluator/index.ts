// Public entry of deephyper-ts/evaluator.
import type { Evaluator as EvaluatorInterface } from './evaluator.js';
import { createEvaluator } from './factory.js';

/** Runs evaluations in parallel for the search loop; see Evaluator.create. */
export type Evaluator = EvaluatorInterface;

export const Evaluator = {
  /**
   * Create an evaluator.
   * - `Evaluator.create(new URL('./train.js', import.meta.url), 'run', { method: 'process', numWorkers: 4 })`
   * - `Evaluator.create({ command: 'python train.py --lr {lr}' }, { numWorkers: 4, timeoutMs: 60_000 })`
   * - `Evaluator.create(async (job) => job.parameters.x as number, { method: 'serial' })`
   */
  create: createEvaluator,
};

export type { RunningJob, RunFunction, RunOutput, JobResult, JobSpec, JobStatus, EvaluatorMethod, EvaluatorOptions, CommandSpec, StopHandler } from './types.js';
export { EvaluatorError, type EvaluatorErrorCode } from './errors.js';
export { PoolEvaluator, TIMEOUT_CODE, type WorkerSlot, type SlotHooks, type RunOutcome } from './pool.js';
export { LocalRunningJob, registerChildProcess } from './job.js';
export { runCommandObjective, renderCommand, shellQuote, commandPlaceholders, parseCommandTemplate, classifyLine } from './command.js';
export { normalizeOutput } from './output.js';

// The search loop and its results travel with the evaluators (deephyper-ts/evaluator).
export {
  runSearch,
  SearchResults,
  ProgressCallback,
  SearchEarlyStopping,
  readResultsCsv,
  writeResultsCsv,
  resultsToCsv,
  plotSearchTrajectory,
  SearchError,
  type SearchOptions,
  type SearchCallback,
  type SearchProgress,
} from '../search/index.js';
