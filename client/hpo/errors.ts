// Typed errors of the search package. `code` is stable and meant for programs; `message` is meant for people.

import { DhtsError } from '../../protocol/errors.js';

export type HpoErrorCode =
  | 'HPO_INVALID_HYPERPARAMETER'
  | 'HPO_INVALID_CONDITION'
  | 'HPO_INVALID_FORBIDDEN'
  | 'HPO_INVALID_CONFIG'
  | 'HPO_PROBLEM_FILE'
  | 'HPO_SAMPLING_EXHAUSTED'
  | 'HPO_INVALID_OPTION'
  | 'HPO_INVALID_EVALUATION'
  | 'HPO_NO_EVALUATOR';

export class HpoError extends DhtsError<HpoErrorCode> {}

/** A problem file (YAML/JSON) that cannot be read; names the file, line and field. */
export class ProblemFileError extends HpoError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(file: string, line: number | undefined, field: string | undefined, problem: string, options?: { cause?: unknown }) {
    const where = `${file}${line !== undefined ? `:${line}` : ''}`;
    super('HPO_PROBLEM_FILE', `${where}: ${field !== undefined ? `field "${field}": ` : ''}${problem}`, options);
    this.name = 'ProblemFileError';
    this.file = file;
    this.line = line;
    this.field = field;
  }
}
