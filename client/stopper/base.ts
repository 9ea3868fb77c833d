// Shared bookkeeping of every stopper: per-run observations, the failure and max-steps rules DeepHyper's base
// Stopper applies before any policy, and the set of finished runs. Policies only implement `decide`.

import { StopperObservationError, positiveInteger } from './errors.js';
import type { StopDecision, Stopper } from './types.js';

export interface RunTrace {
  readonly jobId: string;
  readonly steps: number[];
  readonly objectives: number[];
  /** Set when the stopper said stop, or complete() was called: later observations are ignored. */
  finished: boolean;
  /** The run reached maxSteps. */
  fullyCompleted: boolean;
  /** The run reported a non-numeric (NaN, ±Infinity) objective: a failure. */
  failed: boolean;
}

export const CONTINUE: StopDecision = Object.freeze({ stop: false });

export abstract class BaseStopper implements Stopper {
  readonly maxSteps: number;
  abstract readonly name: string;
  protected readonly runs = new Map<string, RunTrace>();
  private fullyCompletedCount = 0;

  constructor(maxSteps: number) {
    this.maxSteps = positiveInteger('maxSteps', maxSteps);
  }

  observe(jobId: string, step: number, objective: number): StopDecision {
    if (typeof step !== 'number' || !Number.isFinite(step) || step <= 0) {
      throw new StopperObservationError(jobId, `step must be a positive finite number, got ${String(step)}`);
    }
    const run = this.trace(jobId);
    // A run may report once more before it notices it was stopped: the answer stays "stop", the state unchanged.
    if (run.finished) return { stop: true, reason: 'already stopped' };
    const last = run.steps[run.steps.length - 1];
    if (last !== undefined && step < last) {
      throw new StopperObservationError(jobId, `step ${step} goes back before step ${last}`);
    }
    run.steps.push(step);
    run.objectives.push(objective);
    const failed = typeof objective !== 'number' || !Number.isFinite(objective);
    if (failed) run.failed = true;
    this.recorded(run, step, objective, failed);

    let decision: StopDecision;
    if (failed) {
      decision = { stop: true, reason: 'failure: non-numeric objective' };
    } else if (step >= this.maxSteps) {
      run.fullyCompleted = true;
      this.fullyCompletedCount++;
      decision = { stop: true, reason: 'max steps reached' };
    } else {
      decision = this.decide(run, step, objective);
    }
    if (decision.stop) this.finish(run);
    return decision;
  }

  complete(jobId: string): void {
    const run = this.runs.get(jobId);
    if (run && !run.finished) this.finish(run);
  }

  objectiveOf(jobId: string): number | undefined {
    const run = this.runs.get(jobId);
    if (!run || run.objectives.length === 0) return undefined;
    return run.objectives[run.objectives.length - 1];
  }

  /** Number of runs that reached maxSteps. */
  get numFullyCompleted(): number {
    return this.fullyCompletedCount;
  }

  /** Steps and objectives a run reported so far (copies). */
  observations(jobId: string): { steps: number[]; objectives: number[] } {
    const run = this.runs.get(jobId);
    return { steps: [...(run?.steps ?? [])], objectives: [...(run?.objectives ?? [])] };
  }

  /** Called after every observation, before any decision (DeepHyper's `observe`): record rung values here. */
  protected recorded(_run: RunTrace, _step: number, _objective: number, _failed: boolean): void {}

  /** The policy: the run is numeric, below maxSteps and still running. */
  protected abstract decide(run: RunTrace, step: number, objective: number): StopDecision;

  /** Called once when a run ends (stopped, reached maxSteps, failed or completed by the search). */
  protected finished(_run: RunTrace): void {}

  private finish(run: RunTrace): void {
    run.finished = true;
    this.finished(run);
  }

  private trace(jobId: string): RunTrace {
    let run = this.runs.get(jobId);
    if (!run) {
      run = { jobId, steps: [], objectives: [], finished: false, fullyCompleted: false, failed: false };
      this.runs.set(jobId, run);
    }
    return run;
  }
}

/** Values recorded per rung and per run; a run writing the same rung again overwrites its value (as in DeepHyper). */
export class RungTable {
  private readonly rungs = new Map<number, Map<string, number>>();

  set(rung: number, jobId: string, value: number): void {
    let table = this.rungs.get(rung);
    if (!table) {
      table = new Map();
      this.rungs.set(rung, table);
    }
    table.set(jobId, value);
  }

  /** Forget a run's values (it failed: its rungs no longer count). */
  drop(jobId: string, rungs: Iterable<number>): void {
    for (const rung of rungs) this.rungs.get(rung)?.delete(jobId);
  }

  /** Numeric values recorded at `rung`, sorted ascending. */
  sorted(rung: number): number[] {
    const values = [...(this.rungs.get(rung)?.values() ?? [])].filter((v) => Number.isFinite(v));
    return values.sort((a, b) => a - b);
  }
}

/** Linear-interpolation quantile of ascending `sorted` values (numpy's default method). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const frac = position - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

/** A short rendering of a value for decision reasons (4 significant digits, no trailing zeros). */
export function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x);
}
