// The outcome of a search: every finished evaluation, the best one, and the Pareto front for several objectives.
import { paretoFront } from '../hpo/moo.js';
import type { Config, Objective } from '../hpo/types.js';
import type { JobResult } from '../evaluator/types.js';

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
      const score = Array.isArray(e.objective) ? e.objective.reduce((a, b) => a + b, 0) : (e.objective as number);
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

  /** Best objective after each evaluation (single objective), for trajectory plots. */
  trajectory(): number[] {
    const out: number[] = [];
    let best = -Infinity;
    for (const e of this.evaluations) {
      if (typeof e.objective === 'number' && e.objective > best) best = e.objective;
      out.push(best);
    }
    return out;
  }
}
