// Contract types shared by the search (client/hpo), the evaluators and the search loop (client/search).
// Kept small and stable: other parts of the package build against these names.

/** A value of one hyperparameter. */
export type ParamValue = number | string | boolean;

/** One point of the search space: hyperparameter name -> value. Inactive conditional hyperparameters are absent. */
export type Config = Record<string, ParamValue>;

/** A scalar objective, or a vector for multi-objective search. Maximized, as in DeepHyper. */
export type Objective = number | number[];

/** The outcome of evaluating one configuration, as told to an optimizer. */
export interface Evaluation {
  config: Config;
  /** null when the evaluation failed (a hidden constraint, a crash, a timeout). */
  objective: Objective | null;
  /** true when the evaluation failed; DeepHyper writes such objectives as "F". */
  failed?: boolean;
  /** Budget (steps) the evaluation consumed, when a stopper cut it short. */
  budget?: number;
  metadata?: Record<string, unknown>;
}

/** Anything the search loop can drive: CBO, RandomSearch, ... */
export interface AskTellOptimizer {
  /** Suggest `n` configurations to evaluate next (default 1). */
  ask(n?: number): Config[];
  /** Report finished evaluations, in any order and any batch size. */
  tell(evaluations: Evaluation[]): void;
}
