import { DhtsError } from '../../protocol/errors.js';

/** A stopper option is out of range or of the wrong kind (names the option and the value). */
export class StopperConfigError extends DhtsError<'ERR_STOPPER_CONFIG'> {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_STOPPER_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** observe() was called with a step that cannot be a budget (not finite, not positive, going backwards). */
export class StopperObservationError extends DhtsError<'ERR_STOPPER_OBSERVATION'> {
  readonly jobId: string;
  constructor(jobId: string, message: string, options?: { cause?: unknown }) {
    super('ERR_STOPPER_OBSERVATION', `job ${jobId}: ${message}`, options);
    this.jobId = jobId;
  }
}

export function positiveInteger(field: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new StopperConfigError(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function numberIn(field: string, value: number, min: number, max = Infinity): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new StopperConfigError(field, `must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
