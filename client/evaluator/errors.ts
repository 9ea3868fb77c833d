// Typed errors of the evaluators, each with a stable `code`.

import { DhtsError } from '../../protocol/errors.js';

export type EvaluatorErrorCode =
  | 'EVALUATOR_BAD_OPTIONS'
  | 'EVALUATOR_BAD_MODULE'
  | 'EVALUATOR_CLOSED'
  | 'COMMAND_BAD_TEMPLATE'
  | 'CLUSTER_UNAVAILABLE';

export class EvaluatorError extends DhtsError<EvaluatorErrorCode> {}
