// An evaluator on a simulated clock: evaluations take random simulated durations, while the real time the search
// loop spends between two gathers (asking, telling, journaling) is charged to the same clock. Measures how well a
// search keeps many workers busy, without running them.
import type { Evaluator } from '../../client/evaluator/evaluator.js';
import type { JobResult, JobSpec, StopHandler } from '../../client/evaluator/types.js';

interface SimJob {
  spec: JobSpec;
  submit: number;
  start: number;
  end: number;
}

export interface SimulatedOptions {
  numWorkers: number;
  /** Simulated seconds an evaluation takes, drawn per evaluation. */
  duration: () => number;
  objective: (spec: JobSpec) => number;
}

export class SimulatedEvaluator implements Evaluator {
  readonly method = 'serial' as const;
  readonly numWorkers: number;
  /** Simulated seconds since the start. */
  now = 0;
  /** Simulated seconds workers spent evaluating. */
  busy = 0;
  /** Real seconds of search compute charged to the clock. */
  charged = 0;
  private running: SimJob[] = [];
  private lastReal = performance.now();
  private readonly options: SimulatedOptions;

  constructor(options: SimulatedOptions) {
    this.numWorkers = options.numWorkers;
    this.options = options;
  }

  get pending(): number {
    return this.running.length;
  }

  setStopHandler(_handler: StopHandler | undefined): void {}

  private charge(): void {
    const t = performance.now();
    const spent = (t - this.lastReal) / 1000;
    this.now += spent;
    this.charged += spent;
    this.lastReal = t;
  }

  submit(jobs: JobSpec[]): void {
    this.charge();
    for (const spec of jobs) this.running.push({ spec, submit: this.now, start: this.now, end: this.now + this.options.duration() });
    this.lastReal = performance.now();
  }

  async gather(): Promise<JobResult[]> {
    this.charge();
    if (this.running.length === 0) return [];
    const first = this.running.reduce((a, b) => (b.end < a.end ? b : a));
    if (first.end > this.now) this.now = first.end;
    const done = this.running.filter((j) => j.end <= this.now);
    this.running = this.running.filter((j) => j.end > this.now);
    const results = done.map((j): JobResult => {
      this.busy += j.end - j.start;
      const ms = (s: number) => s * 1000;
      return {
        id: j.spec.id,
        parameters: j.spec.parameters,
        objective: this.options.objective(j.spec),
        status: 'DONE',
        metadata: {},
        timestamps: { submit: ms(j.submit), start: ms(j.start), end: ms(j.end), gather: ms(this.now) },
      };
    });
    this.lastReal = performance.now();
    return results;
  }

  /** Busy time over available time, counting the jobs cut at the end of the run as busy until then. */
  utilization(): number {
    const partial = this.running.reduce((s, j) => s + Math.max(0, this.now - j.start), 0);
    return (this.busy + partial) / (this.numWorkers * this.now);
  }

  async cancelAll(): Promise<void> {
    this.charge();
    this.busy += this.running.reduce((s, j) => s + Math.max(0, this.now - j.start), 0);
    this.running = [];
  }

  async close(): Promise<void> {}
}
