// Scheduling shared by every backend: a queue, `numWorkers` slots, per-evaluation timeouts, stop requests from the
// stopper, grace periods and hard kills, and the turning of run outcomes into JobResults. Backends only say how one
// slot runs one job and how it is killed.
import type { Evaluator } from './evaluator.js';
import { EvaluatorError } from './errors.js';
import { normalizeOutput } from './output.js';
import type { EvaluatorMethod, JobResult, JobSpec, RunOutput, StopHandler } from './types.js';

/** How a run ended, as seen by the slot. */
export type RunOutcome =
  | { kind: 'returned'; output: RunOutput }
  | { kind: 'threw'; message: string; code?: string }
  | { kind: 'crashed'; message: string };

/** Hooks a slot calls while a job runs. */
export interface SlotHooks {
  /** An intermediate value; the answer goes back to the run. */
  onRecord(step: number, objective: number): { stop: boolean };
  /** The run started a child process (its process group is killed if the slot is killed). */
  onChild(pid: number): void;
}

/** One worker: runs one job at a time. */
export interface WorkerSlot {
  /** True once the worker is gone (killed or crashed): it is replaced, never reused. */
  dead: boolean;
  run(spec: JobSpec, hooks: SlotHooks): Promise<RunOutcome>;
  /** Ask the current run to stop (it sees `stopped()` and its signal abort). */
  requestStop(): void;
  /** Kill the current run for good; the slot is not used again afterwards. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Error code a run throws to be recorded as timed out (CANCELLED) rather than failed. */
export const TIMEOUT_CODE = 'EVALUATION_TIMEOUT';

interface Active {
  spec: JobSpec;
  /** Unset while the slot is being acquired (a new thread, process or actor starting). */
  slot?: WorkerSlot;
  submit: number;
  start: number;
  lastStep?: number;
  lastObjective?: number;
  curve: [number, number][];
  stop?: { reason: string };
  childPids: Set<number>;
  /** Set once the job has a result (or was cancelled): later events of its run are ignored. */
  settled: boolean;
  timers: NodeJS.Timeout[];
}

export interface PoolOptions {
  numWorkers: number;
  timeoutMs?: number;
  killGraceMs: number;
}

export abstract class PoolEvaluator implements Evaluator {
  abstract readonly method: EvaluatorMethod;
  readonly numWorkers: number;
  readonly timeoutMs: number | undefined;
  readonly killGraceMs: number;
  private readonly idle: WorkerSlot[] = [];
  private slotCount = 0;
  private readonly queue: { spec: JobSpec; submit: number }[] = [];
  private readonly active = new Map<string, Active>();
  private readonly done: JobResult[] = [];
  private readonly settling = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private stopHandler: StopHandler | undefined;
  private closed = false;

  protected constructor(options: PoolOptions) {
    if (!Number.isInteger(options.numWorkers) || options.numWorkers < 1) {
      throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', `numWorkers must be a positive integer, got ${options.numWorkers}`);
    }
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', `timeoutMs must be positive, got ${options.timeoutMs}`);
    }
    this.numWorkers = options.numWorkers;
    this.timeoutMs = options.timeoutMs;
    this.killGraceMs = options.killGraceMs;
  }

  /** Start a new worker slot (a thread, a process, an actor...). */
  protected abstract createSlot(): Promise<WorkerSlot>;

  get pending(): number {
    return this.queue.length + this.active.size + this.done.length;
  }

  /** Evaluations currently running. */
  get running(): number {
    return this.active.size;
  }

  setStopHandler(handler: StopHandler | undefined): void {
    this.stopHandler = handler;
  }

  submit(jobs: JobSpec[]): void {
    if (this.closed) throw new EvaluatorError('EVALUATOR_CLOSED', 'submit() after close()');
    const now = Date.now();
    for (const spec of jobs) this.queue.push({ spec, submit: now });
    this.pump();
  }

  async gather(options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<JobResult[]> {
    if (this.done.length === 0 && this.pending > 0 && options.waitMs !== 0 && !options.signal?.aborted) {
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', finish);
          if (this.wake === finish) this.wake = undefined;
          resolve();
        };
        const timer = options.waitMs !== undefined ? setTimeout(finish, options.waitMs) : undefined;
        options.signal?.addEventListener('abort', finish, { once: true });
        this.wake = finish;
      });
    }
    return this.done.splice(0);
  }

  async cancelAll(): Promise<void> {
    this.queue.length = 0;
    for (const job of [...this.active.values()]) this.cancel(job);
    this.done.length = 0;
    this.wake?.();
    while (this.settling.size > 0) await Promise.all([...this.settling]);
  }

  async close(): Promise<void> {
    await this.cancelAll();
    this.closed = true;
    const slots = this.idle.splice(0);
    this.slotCount -= slots.length;
    await Promise.all(slots.map((s) => s.close().catch(() => undefined)));
  }

  /** Start queued jobs on free slots, creating slots up to numWorkers. */
  private pump(): void {
    while (this.queue.length > 0 && this.active.size < this.numWorkers) {
      const next = this.queue.shift()!;
      const job: Active = {
        spec: next.spec,
        submit: next.submit,
        start: 0,
        curve: [],
        childPids: new Set(),
        settled: false,
        timers: [],
      };
      this.active.set(next.spec.id, job);
      this.track(this.launch(job));
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => {
      process.emitWarning(`evaluator internal error: ${String(err)}`);
    }).finally(() => this.settling.delete(tracked));
    this.settling.add(tracked);
  }

  private async acquireSlot(): Promise<WorkerSlot> {
    const slot = this.idle.pop();
    if (slot) return slot;
    this.slotCount++;
    try {
      return await this.createSlot();
    } catch (err) {
      this.slotCount--;
      throw err;
    }
  }

  private async launch(job: Active): Promise<void> {
    let slot: WorkerSlot;
    try {
      slot = await this.acquireSlot();
    } catch (err) {
      this.finish(job, { kind: 'crashed', message: `could not start a worker: ${errorMessage(err)}` });
      this.active.delete(job.spec.id);
      this.pump();
      return;
    }
    job.slot = slot;
    job.start = Date.now();
    if (job.settled) {
      this.releaseSlot(slot, false);
      return;
    }
    if (this.timeoutMs !== undefined) {
      job.timers.push(setTimeout(() => this.onTimeout(job), this.timeoutMs));
    }
    const hooks: SlotHooks = {
      onRecord: (step, objective) => this.onRecord(job, step, objective),
      onChild: (pid) => job.childPids.add(pid),
    };
    let outcome: RunOutcome;
    try {
      outcome = await slot.run(job.spec, hooks);
    } catch (err) {
      outcome = { kind: 'crashed', message: errorMessage(err) };
    }
    for (const t of job.timers) clearTimeout(t);
    const slotDead = slot.dead || outcome.kind === 'crashed';
    if (!job.settled) this.finish(job, outcome);
    this.active.delete(job.spec.id);
    this.releaseSlot(slot, slotDead);
    this.pump();
  }

  private releaseSlot(slot: WorkerSlot, dead: boolean): void {
    if (dead || this.closed) {
      this.slotCount--;
      if (!dead) void slot.close().catch(() => undefined);
      return;
    }
    this.idle.push(slot);
  }

  private onRecord(job: Active, step: number, objective: number): { stop: boolean } {
    if (job.settled || job.stop) return { stop: true };
    job.lastStep = step;
    job.lastObjective = objective;
    job.curve.push([step, objective]);
    const decision = this.stopHandler?.(job.spec.id, step, objective) ?? { stop: false };
    if (decision.stop) this.stopRun(job, decision.reason ?? 'stopper');
    return { stop: decision.stop };
  }

  /** Cooperative stop, then a hard kill if the run has not returned after the grace period. */
  private stopRun(job: Active, reason: string): void {
    if (!job.stop) job.stop = { reason };
    job.slot?.requestStop();
    job.timers.push(setTimeout(() => void this.hardKill(job), this.killGraceMs));
  }

  private onTimeout(job: Active): void {
    if (job.settled) return;
    this.finish(job, { kind: 'threw', code: TIMEOUT_CODE, message: `timed out after ${this.timeoutMs} ms` });
    this.stopRun(job, 'timeout');
  }

  private cancel(job: Active): void {
    job.settled = true;
    if (job.slot) this.stopRun(job, 'cancelled');
  }

  private async hardKill(job: Active): Promise<void> {
    const slot = job.slot;
    if (this.active.get(job.spec.id) !== job || !slot || slot.dead) return;
    for (const pid of job.childPids) killGroup(pid);
    slot.dead = true;
    await slot.kill().catch(() => undefined);
    if (!job.settled) {
      this.finish(job, { kind: 'crashed', message: `killed after not stopping within ${this.killGraceMs} ms` });
    }
  }

  private finish(job: Active, outcome: RunOutcome): void {
    if (job.settled) return;
    job.settled = true;
    const end = Date.now();
    const result: JobResult = {
      id: job.spec.id,
      parameters: job.spec.parameters,
      objective: null,
      status: 'DONE',
      metadata: {},
      timestamps: { submit: job.submit, start: job.start || end, end, gather: end },
    };
    if (job.lastStep !== undefined) {
      result.budget = job.lastStep;
      result.curve = job.curve;
    }
    const stoppedEarly = job.stop !== undefined && job.stop.reason !== 'timeout' && job.stop.reason !== 'cancelled';
    if (stoppedEarly) {
      result.stopped = true;
      result.stopReason = job.stop!.reason;
    } else if (job.lastStep !== undefined) {
      result.stopped = false;
    }
    if (stoppedEarly && job.lastObjective !== undefined) {
      // The objective of a stopped run is the value the stopper judged, whatever the run did after the decision.
      result.objective = job.lastObjective;
      if (outcome.kind === 'returned') result.metadata = normalizeOutput(outcome.output, job.lastObjective).metadata;
    } else if (outcome.kind === 'returned') {
      const n = normalizeOutput(outcome.output, job.lastObjective);
      result.objective = n.objective;
      result.metadata = n.metadata;
      if (n.objective === null) {
        result.failure = n.failure ?? 'F';
        if (n.error) result.error = n.error;
      }
    } else {
      result.failure = 'F';
      result.error = outcome.message;
      result.status = outcome.kind === 'threw' && outcome.code === TIMEOUT_CODE ? 'CANCELLED' : 'FAILED';
    }
    this.done.push(result);
    this.wake?.();
  }
}

/** Kill a child's whole process group (commands run detached, in their own group), ignoring groups already gone. */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group has no process left
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
