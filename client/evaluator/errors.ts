// Typed errors of the evaluators, each with a stable `code`.

export type EvaluatorErrorCode =
  | 'EVALUATOR_BAD_OPTIONS'
  | 'EVALUATOR_BAD_MODULE'
  | 'EVALUATOR_CLOSED'
  | 'COMMAND_BAD_TEMPLATE'
  | 'CLUSTER_UNAVAILABLE';

export class EvaluatorError extends Error {
  readonly code: EvaluatorErrorCode;
  constructor(code: EvaluatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvaluatorError';
    this.code = code;
  }
}
