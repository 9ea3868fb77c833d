// Contract of the evaluators: what a run function receives and returns, what the search loop submits and gathers.
import type { Config, Objective } from '../hpo/types.js';

/** Why a finished evaluation has no usable objective, or how it ended. */
export type JobStatus = 'DONE' | 'FAILED' | 'CANCELLED';

/** What a run function sees while it runs (DeepHyper's RunningJob). */
export interface RunningJob {
  /** Job id, unique within the search ("0", "1", ...). */
  readonly id: string;
  /** The configuration to evaluate. */
  readonly parameters: Config;
  /**
   * Report an intermediate objective at `step` (the budget consumed so far: epochs, iterations...). The stopper of
   * the search decides whether the run goes on; awaiting the returned promise guarantees that `stopped()` already
   * reflects that decision (useful in backends where the decision crosses a thread, a process or a machine).
   */
  record(step: number, objective: number): Promise<void>;
  /** True once the search asked this run to stop (early discarding, timeout or the end of the search). */
  stopped(): boolean;
  /** Aborted together with `stopped()`: hand it to fetch, child processes, timers... */
  readonly signal: AbortSignal;
  /** The last recorded objective (what a stopped run returns by default). */
  readonly objective: number | undefined;
}

/** What a run function may return: a number, a list (multi-objective), "F..." (failure) or an object. */
export type RunOutput =
  | number
  | number[]
  | string
  | undefined
  | void
  | { objective: Objective | string; metadata?: Record<string, unknown> };

export type RunFunction<Extra = unknown> = (job: RunningJob, extra: Extra) => RunOutput | Promise<RunOutput>;

/** One evaluation sent to an evaluator. */
export interface JobSpec {
  id: string;
  parameters: Config;
}

/** One finished evaluation as gathered by the search loop. */
export interface JobResult {
  id: string;
  parameters: Config;
  /** null when the evaluation failed. */
  objective: Objective | null;
  status: JobStatus;
  /** "F" or the "F..." string a run returned, when failed. */
  failure?: string;
  /** Error message (and last lines of stderr for commands). */
  error?: string;
  /** Last step recorded with `record`, if any. */
  budget?: number;
  /** Every [step, objective] the stopper judged, in order (replayed into a fresh stopper on resume). */
  curve?: [number, number][];
  /** True when the stopper cut the run short. */
  stopped?: boolean;
  stopReason?: string;
  metadata: Record<string, unknown>;
  /** Wall-clock epoch milliseconds. */
  timestamps: { submit: number; start: number; end: number; gather: number };
}

/** Decides, for each intermediate value of a running job, whether the job must stop. */
export type StopHandler = (jobId: string, step: number, objective: number) => { stop: boolean; reason?: string };

export type EvaluatorMethod = 'serial' | 'thread' | 'process' | 'cluster';

export interface EvaluatorOptions {
  method?: EvaluatorMethod;
  /** Maximum number of evaluations running at once (default 1). */
  numWorkers?: number;
  /** Per-evaluation timeout in ms: the evaluation is stopped and recorded as failed (CANCELLED). */
  timeoutMs?: number;
  /** After a stop or timeout, how long a run may take to wind down before it is killed (default 2000 ms). */
  killGraceMs?: number;
  /** Extra value passed as second argument to the run function (must be structured-cloneable off serial). */
  runKwargs?: unknown;
  /** Cluster backend: resources of each evaluation (one actor per worker slot). */
  resources?: { numCpus?: number; numGpus?: number; resources?: Record<string, number> };
  /** Thread and process backends: Node flags of the workers (default: this process's own, e.g. a TS loader). */
  execArgv?: string[];
  /** Cluster backend: address of the cluster, when not already connected. */
  address?: string;
}

/** A command objective: `{name}` placeholders are replaced by shell-quoted parameter values. */
export interface CommandSpec {
  command: string;
  /** Working directory of the command (default: the current one). */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** SIGTERM -> SIGKILL grace period when a command is stopped or timed out (default 2000 ms). */
  killGraceMs?: number;
  /**
   * 'minimize' when the command prints a value to minimize (a loss): objectives and intermediate values are negated,
   * since the search maximizes, as DeepHyper. Default 'maximize'.
   */
  direction?: 'maximize' | 'minimize';
}
