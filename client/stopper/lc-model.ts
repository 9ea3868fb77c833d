// Learning-curve extrapolation (LCE), DeepHyper's LCModelStopper (stopper/_lcmodel_stopper.py): a run is stopped
// when, under a Bayesian fit of a parametric curve to its own points, the probability that its value at maxSteps
// is no better than the best final objective found so far exceeds probPromotion (0.9). Before that: a patience
// rule (no improvement of the run's own best for a quarter of maxSteps), and, while too few points exist to fit,
// an IQR test against the values other runs had at the same rung.

import { BaseStopper, CONTINUE, RungTable, fmt, quantileSorted, type RunTrace } from './base.js';
import { StopperConfigError, numberIn, positiveInteger } from './errors.js';
import { fitBayesianCurve, type BayesianCurveOptions } from './lce/bayesian.js';
import { CURVE_MODEL_NAMES, curveModel, type CurveModel, type CurveModelName } from './lce/models.js';
import type { StopDecision } from './types.js';

export type ObjectiveReturned = 'last' | 'max' | 'alc';

export interface LCModelOptions {
  maxSteps: number;
  /** Runs are never judged before this step (default 1). */
  minSteps?: number;
  /** Curve family (default "mmf4"). */
  lcModel?: CurveModelName;
  /** Points needed before the curve is fitted (default 4, the parameters of mmf4). */
  minObsToFitLcModel?: number;
  /** The IQR test runs only with more than this many values at the rung (default 10). */
  minDoneForOutlierDetection?: number;
  /** A value below q1 − factor·IQR is an outlier (default 1.5). */
  iqrFactorForOutlierDetection?: number;
  /** Stop when P(final ≤ best) exceeds this (default 0.9). */
  probPromotion?: number;
  /**
   * Stop a run whose own best has not improved for this many steps: a fraction of maxSteps when in (0, 1), a number
   * of steps when ≥ 1 (default 0.25, i.e. ⌊maxSteps/4⌋; at least 1).
   */
  earlyStoppingPatience?: number;
  /** Judge at steps (minSteps − 1) + reductionFactor^rung (default 1: every step). */
  reductionFactor?: number;
  /** The objective a run reports to the search: last value, max value, or area under the curve (default "last"). */
  objectiveReturned?: ObjectiveReturned;
  /** Seed of the posterior sampling; each fit derives its own stream from (seed, job id, step). */
  seed?: number;
  /** Sampler settings (numWarmup 1000, numSamples 2000, restarts 5, priorScale 1); horizon defaults to maxSteps. */
  sampler?: BayesianCurveOptions;
}

export class LCModelStopper extends BaseStopper {
  readonly name = 'lce';
  readonly minSteps: number;
  readonly model: CurveModel;
  readonly minObsToFitLcModel: number;
  readonly minDoneForOutlierDetection: number;
  readonly iqrFactorForOutlierDetection: number;
  readonly probPromotion: number;
  readonly earlyStoppingPatience: number;
  readonly reductionFactor: number;
  readonly objectiveReturned: ObjectiveReturned;
  readonly seed: number;
  private readonly sampler: BayesianCurveOptions;
  private readonly rungValues = new RungTable();
  private readonly state = new Map<string, { rung: number; bestValue: number; bestStep: number }>();
  private bestFinal = -Infinity;
  private fits = 0;

  constructor(options: LCModelOptions) {
    super(options.maxSteps);
    this.minSteps = numberIn('minSteps', options.minSteps ?? 1, 1);
    const name = options.lcModel ?? 'mmf4';
    const model = curveModel(name);
    if (!model) {
      throw new StopperConfigError('lcModel', `unknown curve model "${String(name)}" (${CURVE_MODEL_NAMES.join(', ')})`);
    }
    this.model = model;
    this.minObsToFitLcModel = positiveInteger('minObsToFitLcModel', options.minObsToFitLcModel ?? 4, 1);
    this.minDoneForOutlierDetection = positiveInteger('minDoneForOutlierDetection', options.minDoneForOutlierDetection ?? 10, 0);
    this.iqrFactorForOutlierDetection = numberIn('iqrFactorForOutlierDetection', options.iqrFactorForOutlierDetection ?? 1.5, 0);
    this.probPromotion = numberIn('probPromotion', options.probPromotion ?? 0.9, 0, 1);
    const patience = numberIn('earlyStoppingPatience', options.earlyStoppingPatience ?? 0.25, Number.MIN_VALUE);
    this.earlyStoppingPatience = Math.max(1, patience < 1 ? Math.floor(patience * this.maxSteps) : Math.floor(patience));
    this.reductionFactor = numberIn('reductionFactor', options.reductionFactor ?? 1, 1);
    const returned = options.objectiveReturned ?? 'last';
    if (!['last', 'max', 'alc'].includes(returned)) {
      throw new StopperConfigError('objectiveReturned', `must be last, max or alc, got "${String(returned)}"`);
    }
    this.objectiveReturned = returned;
    this.seed = Math.floor(options.seed ?? 0);
    this.sampler = { horizon: this.maxSteps, ...options.sampler };
  }

  /** Number of Bayesian curve fits made so far (for benchmarks). */
  get fitCount(): number {
    return this.fits;
  }

  /** Best objective of finished runs (what extrapolations are compared with), -Infinity before any. */
  get bestFinishedObjective(): number {
    return this.bestFinal;
  }

  haltingStep(rung: number): number {
    return this.minSteps - 1 + this.reductionFactor ** rung;
  }

  override objectiveOf(jobId: string): number | undefined {
    const { steps, objectives } = this.observations(jobId);
    if (objectives.length === 0) return undefined;
    if (this.objectiveReturned === 'last') return objectives[objectives.length - 1];
    if (this.objectiveReturned === 'max') return Math.max(...objectives);
    return areaUnderCurve(steps, objectives, this.maxSteps);
  }

  protected override recorded(run: RunTrace, step: number, objective: number, failed: boolean): void {
    if (failed) return;
    const s = this.stateOf(run.jobId);
    if (objective > s.bestValue) {
      s.bestValue = objective;
      s.bestStep = step;
    }
    if (step >= this.haltingStep(s.rung)) this.rungValues.set(s.rung, run.jobId, objective);
  }

  protected override finished(run: RunTrace): void {
    if (run.failed) return;
    const value = this.objectiveOf(run.jobId);
    if (value !== undefined && Number.isFinite(value) && value > this.bestFinal) this.bestFinal = value;
  }

  protected decide(run: RunTrace, step: number, objective: number): StopDecision {
    const s = this.stateOf(run.jobId);
    if (step - s.bestStep >= this.earlyStoppingPatience) {
      return { stop: true, reason: `lce: no improvement for ${this.earlyStoppingPatience} steps (patience)` };
    }
    const halting = this.haltingStep(s.rung);
    if (step < this.minSteps) {
      if (step >= halting) s.rung++;
      return CONTINUE;
    }
    if (run.steps.length < this.minObsToFitLcModel) {
      if (step >= halting) {
        const competitors = this.rungValues.sorted(s.rung);
        if (competitors.length > this.minDoneForOutlierDetection) {
          const q1 = quantileSorted(competitors, 0.25);
          const q3 = quantileSorted(competitors, 0.75);
          const lower = q1 - this.iqrFactorForOutlierDetection * (q3 - q1);
          if (objective < lower) {
            return { stop: true, reason: `lce: outlier ${fmt(objective)} < q1 − ${this.iqrFactorForOutlierDetection}·IQR = ${fmt(lower)} at step ${step}` };
          }
        }
        s.rung++;
      }
      return CONTINUE;
    }
    if (step < halting) return CONTINUE;

    const best = Number.isFinite(this.bestFinal) ? this.bestFinal : Math.max(...run.objectives);
    this.fits++;
    const p = this.probabilityNoBetter(run, best);
    if (p <= this.probPromotion) {
      s.rung++;
      return CONTINUE;
    }
    return { stop: true, reason: `lce: P(value at step ${this.maxSteps} ≤ best ${fmt(best)}) = ${p.toFixed(3)} > ${this.probPromotion}` };
  }

  /**
   * P(the run's value at maxSteps ≤ best) under the Bayesian fit of the curve model to the run's points. Protected so
   * that a benchmark can put another estimate under the same rule (bench/stoppers: the pool-informed oracle).
   */
  protected probabilityNoBetter(run: RunTrace, best: number): number {
    const step = run.steps[run.steps.length - 1]!;
    const fit = fitBayesianCurve(this.model, run.steps, run.objectives, fitSeed(this.seed, run.jobId, step), this.sampler);
    return fit.prob(this.maxSteps, (value) => value <= best);
  }

  private stateOf(jobId: string): { rung: number; bestValue: number; bestStep: number } {
    let s = this.state.get(jobId);
    if (!s) {
      s = { rung: 0, bestValue: -Infinity, bestStep: 0 };
      this.state.set(jobId, s);
    }
    return s;
  }
}

/** Area under a step-function learning curve, extended flat to zMax (DeepHyper's "alc" objective). */
export function areaUnderCurve(z: readonly number[], f: readonly number[], zMax: number): number {
  let area = 0;
  for (let i = 1; i < z.length; i++) area += (z[i]! - z[i - 1]!) * f[i - 1]!;
  const last = z[z.length - 1];
  if (last !== undefined && last < zMax) area += (zMax - last) * f[f.length - 1]!;
  return area;
}

/** A per-fit seed from the stopper seed, the run and the step: replays give the same draws in any interleaving. */
function fitSeed(seed: number, jobId: string, step: number): number {
  let h = 0x811c9dc5 ^ seed;
  const key = `${jobId}@${step}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}
