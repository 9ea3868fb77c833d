// Multi-objective support: scalarization of rescaled objective vectors into one target (per ask, with random
// weights), and the Pareto front of evaluated points. Objectives are maximized by convention; the scalarizers work
// in the minimization space, on rescaled values, as DeepHyper's do.
import type { Evaluation } from './types.js';
import { Rng } from './rng.js';

export type Scalarization = 'Linear' | 'Chebyshev' | 'AugChebyshev' | 'PBI' | 'Quadratic';
export const SCALARIZATIONS: readonly Scalarization[] = ['Linear', 'Chebyshev', 'AugChebyshev', 'PBI', 'Quadratic'];

/** Uniform draw on the simplex (normalized exponentials). */
export function randomSimplexWeights(m: number, rng: Rng): Float64Array {
  const w = new Float64Array(m);
  let s = 0;
  for (let j = 0; j < m; j++) {
    w[j] = rng.exponential();
    s += w[j]!;
  }
  for (let j = 0; j < m; j++) w[j] = w[j]! / s;
  return w;
}

/** Scalarizes one minimization vector y (length m) with weights w. */
export function scalarize(kind: Scalarization, y: ArrayLike<number>, w: ArrayLike<number>): number {
  const m = w.length;
  switch (kind) {
    case 'Linear': {
      let s = 0;
      for (let j = 0; j < m; j++) s += w[j]! * y[j]!;
      return s;
    }
    case 'Chebyshev':
    case 'AugChebyshev': {
      let mx = -Infinity;
      let sum = 0;
      for (let j = 0; j < m; j++) {
        const v = w[j]! * Math.abs(y[j]!);
        mx = Math.max(mx, v);
        sum += v;
      }
      return kind === 'Chebyshev' ? mx : mx + 0.001 * sum;
    }
    case 'PBI': {
      // Penalty-based boundary intersection; DeepHyper's code uses a penalty of 5.
      let dot = 0;
      let nw2 = 0;
      for (let j = 0; j < m; j++) {
        dot += w[j]! * y[j]!;
        nw2 += w[j]! * w[j]!;
      }
      const d1 = dot / nw2;
      let d2 = 0;
      for (let j = 0; j < m; j++) d2 += Math.abs(y[j]! - d1 * w[j]!);
      return d1 + 5 * d2;
    }
    case 'Quadratic': {
      // y^T Q y with Q = I + (alpha − 1)(I − u uᵀ): weight 1 along w, alpha = 10 across it.
      let nw = 0;
      for (let j = 0; j < m; j++) nw += w[j]! * w[j]!;
      nw = Math.sqrt(nw);
      let proj = 0;
      let yy = 0;
      for (let j = 0; j < m; j++) {
        proj += (w[j]! / nw) * y[j]!;
        yy += y[j]! * y[j]!;
      }
      const alpha = 10;
      return proj * proj + alpha * (yy - proj * proj);
    }
  }
}

/** True when a dominates b (maximization: no worse everywhere, better somewhere). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let j = 0; j < a.length; j++) {
    if (a[j]! < b[j]!) return false;
    if (a[j]! > b[j]!) better = true;
  }
  return better;
}

/**
 * The non-dominated evaluations (maximization), failures left out; a point equal to another non-dominated one is
 * kept once. Scalar objectives are treated as 1-vectors (the front is then the best point).
 */
export function paretoFront(evaluations: readonly Evaluation[]): Evaluation[] {
  const ok = evaluations.filter((e) => !e.failed && e.objective !== null && vec(e.objective).every(Number.isFinite));
  const vs = ok.map((e) => vec(e.objective!));
  // Sort by the first objective (descending) so each point only needs checking against the front kept so far.
  const order = vs.map((_, i) => i).sort((a, b) => {
    for (let j = 0; j < vs[a]!.length; j++) if (vs[a]![j] !== vs[b]![j]) return vs[b]![j]! - vs[a]![j]!;
    return a - b;
  });
  const front: number[] = [];
  for (const i of order) {
    const v = vs[i]!;
    if (front.some((k) => dominates(vs[k]!, v) || vs[k]!.every((x, j) => x === v[j]))) continue;
    front.push(i);
  }
  front.sort((a, b) => a - b);
  return front.map((i) => ok[i]!);
}

function vec(o: number | number[]): number[] {
  return typeof o === 'number' ? [o] : o;
}
