// The "i-epoch" policy of Egele et al. 2024 (DeepHyper's ConstantStopper): every run stops at step `stopStep`.

import { BaseStopper, CONTINUE, type RunTrace } from './base.js';
import { StopperConfigError, numberIn } from './errors.js';
import type { StopDecision } from './types.js';

export interface ConstantOptions {
  maxSteps: number;
  stopStep: number;
}

export class ConstantStopper extends BaseStopper {
  readonly name = 'constant';
  readonly stopStep: number;

  constructor(options: ConstantOptions) {
    super(options.maxSteps);
    this.stopStep = numberIn('stopStep', options.stopStep, Number.MIN_VALUE);
    if (this.stopStep > this.maxSteps) {
      throw new StopperConfigError('stopStep', `${this.stopStep} is beyond maxSteps ${this.maxSteps}`);
    }
  }

  protected decide(_run: RunTrace, step: number): StopDecision {
    return step >= this.stopStep ? { stop: true, reason: `constant: step ${this.stopStep} reached` } : CONTINUE;
  }
}
