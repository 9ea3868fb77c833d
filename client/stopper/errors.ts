/** A stopper option is out of range or of the wrong kind (names the option and the value). */
export class StopperConfigError extends Error {
  readonly code = 'ERR_STOPPER_CONFIG';
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.name = 'StopperConfigError';
    this.field = field;
  }
}

/** observe() was called with a step that cannot be a budget (not finite, not positive, going backwards). */
export class StopperObservationError extends Error {
  readonly code = 'ERR_STOPPER_OBSERVATION';
  readonly jobId: string;
  constructor(jobId: string, message: string, options?: { cause?: unknown }) {
    super(`job ${jobId}: ${message}`, options);
    this.name = 'StopperObservationError';
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
