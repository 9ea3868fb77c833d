import { DhtsError } from '../../protocol/errors.js';

/** A data set generator or model got an argument it cannot work with (names the field and the value). */
export class LearnConfigError extends DhtsError<'ERR_LEARN_CONFIG'> {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_LEARN_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}

export function requireInteger(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new LearnConfigError(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function requireNumber(field: string, value: number, min: number, max = Infinity): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new LearnConfigError(field, `must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
