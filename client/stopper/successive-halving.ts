// Asynchronous successive halving (ASHA, Li et al. 2018) with DeepHyper's rules (stopper/_asha_stopper.py):
// rung r is reached at step (minSteps − 1) + reductionFactor^(minEarlyStoppingRate + r); there a run goes on only
// if its value is among the top ⌊n / reductionFactor⌋ (at least 1) of the n values any run recorded at that rung.

import { BaseStopper, CONTINUE, RungTable, fmt, type RunTrace } from './base.js';
import { numberIn, positiveInteger } from './errors.js';
import type { StopDecision } from './types.js';

export interface SuccessiveHalvingOptions {
  maxSteps: number;
  /** First rung's step (default 1). */
  minSteps?: number;
  /** Keep the top 1/reductionFactor at each rung; rungs are reductionFactor times apart (default 3). */
  reductionFactor?: number;
  /** Shifts the schedule: the first rung is at (minSteps − 1) + reductionFactor^rate (default 0). */
  minEarlyStoppingRate?: number;
  /** A run meeting fewer competitors than this at a rung is stopped (default 0). */
  minCompeting?: number;
  /** Until this many runs reached maxSteps, every run is promoted (default 0). */
  minFullyCompleted?: number;
  /** Tolerance of the comparison with the k-th best value (default 1e-10). */
  epsilon?: number;
}

export class SuccessiveHalvingStopper extends BaseStopper {
  readonly name = 'sha';
  readonly minSteps: number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly minCompeting: number;
  readonly minFullyCompleted: number;
  readonly epsilon: number;
  private readonly rungValues = new RungTable();
  /** Per run: current rung, and the rungs it recorded a value at. */
  private readonly rungOf = new Map<string, { rung: number; recorded: number[] }>();

  constructor(options: SuccessiveHalvingOptions) {
    super(options.maxSteps);
    this.minSteps = numberIn('minSteps', options.minSteps ?? 1, 1);
    this.reductionFactor = numberIn('reductionFactor', options.reductionFactor ?? 3, 1 + 1e-9);
    this.minEarlyStoppingRate = numberIn('minEarlyStoppingRate', options.minEarlyStoppingRate ?? 0, 0);
    this.minCompeting = positiveInteger('minCompeting', options.minCompeting ?? 0, 0);
    this.minFullyCompleted = positiveInteger('minFullyCompleted', options.minFullyCompleted ?? 0, 0);
    this.epsilon = numberIn('epsilon', options.epsilon ?? 1e-10, 0);
  }

  /** The step at which `rung` is judged. */
  haltingStep(rung: number): number {
    return this.minSteps - 1 + this.reductionFactor ** (this.minEarlyStoppingRate + rung);
  }

  /** The rung run `jobId` is heading to (0 before its first judgement). */
  rung(jobId: string): number {
    return this.rungOf.get(jobId)?.rung ?? 0;
  }

  protected override recorded(run: RunTrace, step: number, objective: number, failed: boolean): void {
    const state = this.state(run.jobId);
    if (failed) {
      this.rungValues.drop(run.jobId, state.recorded);
      return;
    }
    if (step >= this.haltingStep(state.rung)) {
      this.rungValues.set(state.rung, run.jobId, objective);
      state.recorded.push(state.rung);
    }
  }

  protected decide(run: RunTrace, step: number, objective: number): StopDecision {
    const state = this.state(run.jobId);
    const rung = state.rung;
    if (step < this.haltingStep(rung)) return CONTINUE;
    if (this.minFullyCompleted > 0 && this.numFullyCompleted < this.minFullyCompleted) {
      state.rung++;
      return CONTINUE;
    }
    const competitors = this.rungValues.sorted(rung);
    if (competitors.length < this.minCompeting) {
      return { stop: true, reason: `sha: ${competitors.length} < minCompeting ${this.minCompeting} at rung ${rung}` };
    }
    const k = Math.max(1, Math.floor(competitors.length / this.reductionFactor));
    const kthBest = competitors[competitors.length - k]!;
    if (objective + this.epsilon >= kthBest) {
      state.rung++;
      return CONTINUE;
    }
    return {
      stop: true,
      reason: `sha: ${fmt(objective)} below top-${k} of ${competitors.length} (${fmt(kthBest)}) at rung ${rung} (step ${step})`,
    };
  }

  private state(jobId: string): { rung: number; recorded: number[] } {
    let s = this.rungOf.get(jobId);
    if (!s) {
      s = { rung: 0, recorded: [] };
      this.rungOf.set(jobId, s);
    }
    return s;
  }
}
