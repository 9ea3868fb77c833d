// The actor behind each worker slot of the cluster backend. A job runs in the background of the actor's process;
// the search long-polls the actor for intermediate values and the outcome, and answers with stop decisions in the
// next poll (or at once through stop()), so a decision reaches a run on any node within one round trip.
import { LocalRunningJob } from './job.js';
import { runToOutcome } from './module.js';
import { killGroup, type RunOutcome } from './pool.js';
import type { JobSpec } from './types.js';

export interface ActorJobSource {
  specifier: string;
  exportName: string;
  runKwargs: unknown;
}

export interface PollReply {
  records: { seq: number; step: number; objective: number }[];
  outcome?: RunOutcome;
}

export class EvaluationActor {
  private job: LocalRunningJob | undefined;
  private records: PollReply['records'] = [];
  private readonly waiting = new Map<number, (d: { stop: boolean }) => void>();
  private children = new Set<number>();
  private outcome: RunOutcome | undefined;
  private wake: (() => void) | undefined;
  private seq = 0;

  ping(): number {
    return process.pid;
  }

  /** Start a job in the background (one at a time); returns at once. */
  start(spec: JobSpec, source: ActorJobSource): boolean {
    if (this.job) throw new Error(`actor busy with job ${this.job.id}`);
    this.records = [];
    this.outcome = undefined;
    this.children = new Set();
    const job = new LocalRunningJob(
      spec.id,
      spec.parameters,
      (step, objective) =>
        new Promise((resolve) => {
          const seq = ++this.seq;
          this.waiting.set(seq, resolve);
          this.records.push({ seq, step, objective });
          this.wake?.();
        }),
      { onChild: (pid) => this.children.add(pid) },
    );
    this.job = job;
    void (async () => {
      const outcome = await runToOutcome(source.specifier, source.exportName, job, source.runKwargs);
      for (const resolve of this.waiting.values()) resolve({ stop: true });
      this.waiting.clear();
      this.job = undefined;
      this.outcome = outcome;
      this.wake?.();
    })();
    return true;
  }

  /** start() and a first poll in one round trip (short evaluations finish within it). */
  begin(spec: JobSpec, source: ActorJobSource, waitMs: number): Promise<PollReply> {
    this.start(spec, source);
    return this.poll([], false, waitMs);
  }

  /**
   * Deliver stop decisions for earlier records (and a stop request), then wait up to `waitMs` for new records or
   * the end of the job.
   */
  async poll(decisions: { seq: number; stop: boolean }[], stop: boolean, waitMs: number): Promise<PollReply> {
    for (const d of decisions) {
      this.waiting.get(d.seq)?.({ stop: d.stop });
      this.waiting.delete(d.seq);
    }
    if (stop) this.job?.requestStop();
    if (this.records.length === 0 && this.outcome === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), waitMs);
        const finish = () => {
          clearTimeout(timer);
          if (this.wake === finish) this.wake = undefined;
          resolve();
        };
        this.wake = finish;
      });
    }
    const reply: PollReply = { records: this.records.splice(0) };
    if (this.outcome !== undefined) {
      reply.outcome = this.outcome;
      this.outcome = undefined;
    }
    return reply;
  }

  /** Ask the running job to stop now (its signal aborts; commands get SIGTERM). */
  stop(): boolean {
    this.job?.requestStop();
    return true;
  }

  /** Kill the process groups of the job's commands (before the actor itself is killed). */
  abort(): number {
    for (const pid of this.children) killGroup(pid, 'SIGKILL');
    return this.children.size;
  }
}
