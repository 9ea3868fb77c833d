// The serial backend: run functions are awaited in this thread, up to numWorkers at once (DeepHyper's "serial"
// evaluator, for async objectives and command objectives). A timed-out or stopped run is aborted through its
// signal; one that ignores it is abandoned (its result dropped), since a task in this thread cannot be killed.
import { LocalRunningJob } from './job.js';
import { loadRunFunction } from './module.js';
import { errorMessage, PoolEvaluator, type RunOutcome, type SlotHooks, type WorkerSlot } from './pool.js';
import type { JobSpec, RunFunction } from './types.js';

export interface SerialOptions {
  numWorkers: number;
  timeoutMs?: number;
  killGraceMs: number;
  runKwargs?: unknown;
}

class SerialSlot implements WorkerSlot {
  dead = false;
  private job: LocalRunningJob | undefined;
  private abandon: ((o: RunOutcome) => void) | undefined;

  constructor(private readonly getFn: () => Promise<RunFunction>, private readonly runKwargs: unknown) {}

  async run(spec: JobSpec, hooks: SlotHooks): Promise<RunOutcome> {
    const job = new LocalRunningJob(spec.id, spec.parameters, (step, objective) => hooks.onRecord(step, objective), {
      onChild: (pid) => hooks.onChild(pid),
    });
    this.job = job;
    const abandoned = new Promise<RunOutcome>((resolve) => (this.abandon = resolve));
    const ran = (async (): Promise<RunOutcome> => {
      try {
        const fn = await this.getFn();
        return { kind: 'returned', output: await fn(job, this.runKwargs) };
      } catch (err) {
        return { kind: 'threw', message: errorMessage(err), code: (err as { code?: string }).code };
      }
    })();
    try {
      return await Promise.race([ran, abandoned]);
    } finally {
      this.job = undefined;
      this.abandon = undefined;
    }
  }

  requestStop(): void {
    this.job?.requestStop();
  }

  async kill(): Promise<void> {
    this.dead = true;
    this.job?.requestStop();
    this.abandon?.({ kind: 'crashed', message: 'abandoned: the run ignored its stop request' });
  }

  async close(): Promise<void> {}
}

export class SerialEvaluator extends PoolEvaluator {
  readonly method = 'serial' as const;
  private readonly getFn: () => Promise<RunFunction>;
  private readonly runKwargs: unknown;

  constructor(source: RunFunction | { specifier: string; exportName: string }, options: SerialOptions) {
    super(options);
    this.getFn = typeof source === 'function' ? async () => source : () => loadRunFunction(source.specifier, source.exportName);
    this.runKwargs = options.runKwargs;
  }

  protected async createSlot(): Promise<WorkerSlot> {
    return new SerialSlot(this.getFn, this.runKwargs);
  }
}
