// The RunningJob handed to run functions in every backend. The backend supplies how an intermediate value
// reaches the stopper (a function call, a message to the parent thread or process, an actor call).
import type { Config } from '../hpo/types.js';
import type { RunningJob } from './types.js';

export type RecordTransport = (step: number, objective: number) => Promise<{ stop: boolean }> | { stop: boolean };

const childRegistrars = new WeakMap<RunningJob, (pid: number) => void>();

export class LocalRunningJob implements RunningJob {
  readonly id: string;
  readonly parameters: Config;
  private readonly controller = new AbortController();
  private readonly transport: RecordTransport;
  private last: { step: number; objective: number } | undefined;
  private readonly isStopSet: () => boolean;

  /** `externalStop` lets a backend expose a stop flag readable without yielding (shared memory in threads). */
  constructor(id: string, parameters: Config, transport: RecordTransport, options: { onChild?: (pid: number) => void; externalStop?: () => boolean } = {}) {
    this.id = id;
    this.parameters = Object.freeze({ ...parameters });
    this.transport = transport;
    this.isStopSet = options.externalStop ?? (() => false);
    if (options.onChild) childRegistrars.set(this, options.onChild);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get objective(): number | undefined {
    return this.last?.objective;
  }

  get lastStep(): number | undefined {
    return this.last?.step;
  }

  async record(step: number, objective: number): Promise<void> {
    if (!Number.isFinite(step)) throw new TypeError(`record(step, objective): step must be a finite number, got ${step}`);
    // After a stop, later values no longer count: the run's objective is the one the stopper judged.
    if (this.stopped()) return;
    this.last = { step, objective };
    const decision = await this.transport(step, objective);
    if (decision.stop) this.requestStop();
  }

  stopped(): boolean {
    if (!this.controller.signal.aborted && this.isStopSet()) this.controller.abort(new Error('stopped'));
    return this.controller.signal.aborted;
  }

  /** Called by the backend when the search stops this run (stopper decision, timeout, end of the search). */
  requestStop(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Error('stopped'));
  }
}

/**
 * Tell the backend that `job` started a child process (a command objective), so that a hard kill of the worker also
 * kills that child's process group.
 */
export function registerChildProcess(job: RunningJob, pid: number): void {
  childRegistrars.get(job)?.(pid);
}
