// Median stopping rule (Golovin et al. 2017, DeepHyper's stopper/_median_stopper.py): at every judged step a run
// goes on only if its value is at least the median of the values all runs reported at that same step.
//
// Deliberate difference from DeepHyper 0.13: there, a run's rung counter only advances when the run is judged
// against enough competitors, so the first runs keep overwriting rung 0 with their latest value and later runs are
// compared with final values at their first step. Here rung r always means step minSteps + r·intervalSteps, which is
// the documented intent ("median of observed objectives at similar budgets").

import { BaseStopper, CONTINUE, RungTable, fmt, quantileSorted, type RunTrace } from './base.js';
import { numberIn, positiveInteger } from './errors.js';
import type { StopDecision } from './types.js';

export interface MedianOptions {
  maxSteps: number;
  /** First judged step (default 1). */
  minSteps?: number;
  /** Judge only when at least this many values (this run's included) exist at the step (default 10). */
  minCompeting?: number;
  /** Judge every intervalSteps steps from minSteps (default 1). */
  intervalSteps?: number;
  epsilon?: number;
}

export class MedianStopper extends BaseStopper {
  readonly name = 'median';
  readonly minSteps: number;
  readonly minCompeting: number;
  readonly intervalSteps: number;
  readonly epsilon: number;
  private readonly rungValues = new RungTable();
  private readonly recordedRungs = new Map<string, number[]>();

  constructor(options: MedianOptions) {
    super(options.maxSteps);
    this.minSteps = numberIn('minSteps', options.minSteps ?? 1, 1);
    this.minCompeting = positiveInteger('minCompeting', options.minCompeting ?? 10, 0);
    this.intervalSteps = numberIn('intervalSteps', options.intervalSteps ?? 1, Number.MIN_VALUE);
    this.epsilon = numberIn('epsilon', options.epsilon ?? 1e-10, 0);
  }

  /** The rung index of `step`, or -1 when the step is not judged. */
  rungOfStep(step: number): number {
    if (step < this.minSteps) return -1;
    const r = (step - this.minSteps) / this.intervalSteps;
    return Math.abs(r - Math.round(r)) < 1e-9 ? Math.round(r) : -1;
  }

  protected override recorded(run: RunTrace, step: number, objective: number, failed: boolean): void {
    const rungs = this.recordedRungs.get(run.jobId) ?? [];
    this.recordedRungs.set(run.jobId, rungs);
    if (failed) {
      this.rungValues.drop(run.jobId, rungs);
      return;
    }
    const rung = this.rungOfStep(step);
    if (rung >= 0) {
      this.rungValues.set(rung, run.jobId, objective);
      rungs.push(rung);
    }
  }

  protected decide(_run: RunTrace, step: number, objective: number): StopDecision {
    const rung = this.rungOfStep(step);
    if (rung < 0) return CONTINUE;
    const competitors = this.rungValues.sorted(rung);
    if (competitors.length < this.minCompeting) return CONTINUE;
    const median = quantileSorted(competitors, 0.5);
    if (objective + this.epsilon >= median) return CONTINUE;
    return { stop: true, reason: `median: ${fmt(objective)} below median ${fmt(median)} of ${competitors.length} at step ${step}` };
  }
}
