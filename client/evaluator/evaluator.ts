// The interface every backend implements; the search loop only knows this.
import type { EvaluatorMethod, JobResult, JobSpec, StopHandler } from './types.js';

export interface Evaluator {
  readonly method: EvaluatorMethod;
  /** Maximum number of evaluations running at once. */
  readonly numWorkers: number;
  /** Submitted evaluations not gathered yet (queued, running, or finished and waiting). */
  readonly pending: number;
  /** Routes intermediate values of running jobs to a stopper; its decisions go back to the runs. */
  setStopHandler(handler: StopHandler | undefined): void;
  /** Queue evaluations; each starts as soon as a worker slot is free. */
  submit(jobs: JobSpec[]): void;
  /**
   * Wait until at least one evaluation finished and return every finished one not gathered yet. Resolves with []
   * when nothing is pending, or when `waitMs` elapsed or `signal` aborted first.
   */
  gather(options?: { waitMs?: number; signal?: AbortSignal }): Promise<JobResult[]>;
  /** Stop every queued and running evaluation; they are never gathered. */
  cancelAll(): Promise<void>;
  /** Cancel everything and release the workers (threads, processes, actors). */
  close(): Promise<void>;
}
