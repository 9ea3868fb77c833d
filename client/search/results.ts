// The outcome of a search: every finished evaluation, the best one, and the Pareto front for several objectives.
import { paretoFront } from '../hpo/moo.js';
import type { Config, Objective } from '../hpo/types.js';
import type { JobResult } from '../evaluator/types.js';

/** One number per evaluation for "best so far": the objective, or the sum of several (undefined when failed). */
export function objectiveScore(objective: Objective | null): number | undefined {
  if (objective === null) return undefined;
  return Array.isArray(objective) ? objective.reduce((a, b) => a + b, 0) : objective;
}

export class SearchResults {
  /** Finished evaluations in the order they were gathered. */
  readonly evaluations: readonly JobResult[];
  /** Hyperparameter names in column order. */
  readonly hyperparameters: readonly string[];
  /** Why the search ended: "max-evals", "timeout", "early-stopping", "stopped", "exhausted". */
  readonly reason: string;

  constructor(evaluations: readonly JobResult[], hyperparameters: readonly string[], reason: string) {
    this.evaluations = evaluations;
    this.hyperparameters = hyperparameters;
    this.reason = reason;
  }

  get length(): number {
    return this.evaluations.length;
  }

  /** Evaluations with a usable objective. */
  successful(): JobResult[] {
    return this.evaluations.filter((e) => e.objective !== null);
  }

  failed(): JobResult[] {
    return this.evaluations.filter((e) => e.objective === null);
  }

  /**
   * The best evaluation (largest objective, DeepHyper maximizes). With several objectives, the point with the largest
   * sum of objectives (always on the Pareto front). undefined when every evaluation failed.
   */
  best(): { id: string; parameters: Config; objective: Objective } | undefined {
    let best: JobResult | undefined;
    let bestScore = -Infinity;
    for (const e of this.successful()) {
      const score = objectiveScore(e.objective)!;
      if (score > bestScore) {
        bestScore = score;
        best = e;
      }
    }
    if (best === undefined || best.objective === null) return undefined;
    return { id: best.id, parameters: best.parameters, objective: best.objective };
  }

  /** Non-dominated evaluations (all objectives maximized); duplicates of a non-dominated point are kept once. */
  paretoFront(): JobResult[] {
    const wrapped = this.successful().map((e) => ({ config: e.parameters, objective: e.objective, result: e }));
    return paretoFront(wrapped).map((w) => (w as (typeof wrapped)[number]).result);
  }

  /** Best score (objectiveScore) after each evaluation, for trajectory plots. */
  trajectory(): number[] {
    const out: number[] = [];
    let best = -Infinity;
    for (const e of this.evaluations) {
      best = Math.max(best, objectiveScore(e.objective) ?? -Infinity);
      out.push(best);
    }
    return out;
  }
}
