// deephyper-ts/stopper: early-discarding policies. Pure objects fed by the search loop through observe/complete.
import { ConstantStopper, type ConstantOptions } from './constant.js';
import { StopperConfigError } from './errors.js';
import { IdleStopper, type IdleOptions } from './idle.js';
import { LCModelStopper, type LCModelOptions } from './lc-model.js';
import { MedianStopper, type MedianOptions } from './median.js';
import { SuccessiveHalvingStopper, type SuccessiveHalvingOptions } from './successive-halving.js';
import type { Stopper } from './types.js';

export type { StopDecision, Stopper } from './types.js';
export { BaseStopper, type RunTrace } from './base.js';
export { StopperConfigError, StopperObservationError } from './errors.js';
export { SuccessiveHalvingStopper, type SuccessiveHalvingOptions } from './successive-halving.js';
export { MedianStopper, type MedianOptions } from './median.js';
export { ConstantStopper, type ConstantOptions } from './constant.js';
export { IdleStopper, type IdleOptions } from './idle.js';
export { LCModelStopper, areaUnderCurve, type LCModelOptions, type ObjectiveReturned } from './lc-model.js';
export { CURVE_MODEL_NAMES, curveModel, type CurveModel, type CurveModelName } from './lce/models.js';
export { fitBayesianCurve, BayesianCurveFit, type BayesianCurveOptions } from './lce/bayesian.js';
export { fitLeastSquares, type LeastSquaresFit, type LeastSquaresOptions } from './lce/least-squares.js';

export interface StopperOptionsByName {
  sha: SuccessiveHalvingOptions;
  median: MedianOptions;
  lce: LCModelOptions;
  constant: ConstantOptions;
  idle: IdleOptions;
}
export type StopperName = keyof StopperOptionsByName;

const ALIASES: Record<string, StopperName> = {
  sha: 'sha',
  asha: 'sha',
  'successive-halving': 'sha',
  SuccessiveHalvingStopper: 'sha',
  median: 'median',
  MedianStopper: 'median',
  lce: 'lce',
  'lc-model': 'lce',
  LCModelStopper: 'lce',
  constant: 'constant',
  ConstantStopper: 'constant',
  idle: 'idle',
  none: 'idle',
  IdleStopper: 'idle',
};

/** The canonical name of a stopper given by a user (CLI flag, config file); throws on an unknown name. */
export function parseStopperName(name: string): StopperName {
  const canonical = ALIASES[name];
  if (!canonical) {
    throw new StopperConfigError('stopper', `unknown stopper "${name}" (sha, median, lce, constant, idle)`);
  }
  return canonical;
}

/** Build a stopper by name, e.g. createStopper('lce', { maxSteps: 50 }). */
export function createStopper<N extends StopperName>(name: N, options: StopperOptionsByName[N]): Stopper {
  const canonical = parseStopperName(name);
  switch (canonical) {
    case 'sha':
      return new SuccessiveHalvingStopper(options as SuccessiveHalvingOptions);
    case 'median':
      return new MedianStopper(options as MedianOptions);
    case 'lce':
      return new LCModelStopper(options as LCModelOptions);
    case 'constant':
      return new ConstantStopper(options as ConstantOptions);
    case 'idle':
      return new IdleStopper(options as IdleOptions);
  }
}
