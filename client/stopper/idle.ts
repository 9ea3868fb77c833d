// A stopper that never discards (DeepHyper's IdleStopper): runs end at maxSteps or on failure. The baseline.

import { BaseStopper, CONTINUE } from './base.js';
import type { StopDecision } from './types.js';

export interface IdleOptions {
  maxSteps: number;
}

export class IdleStopper extends BaseStopper {
  readonly name = 'idle';

  constructor(options: IdleOptions) {
    super(options.maxSteps);
  }

  protected decide(): StopDecision {
    return CONTINUE;
  }
}
