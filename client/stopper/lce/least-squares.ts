// Levenberg–Marquardt least squares for a curve family, with restarts: the data-driven guess first, then random
// starts ρ ~ N(0, 1) as DeepHyper does, keeping the lowest mean squared error. (DeepHyper 0.13's residual zeroes its
// predictions, so its least-squares "prior" is in effect the random start; we fit for real.)

import type { SeededRandom } from '../../learn/random.js';
import { choleskyWithJitter, choleskySolve } from './linalg.js';
import type { CurveModel } from './models.js';

export interface LeastSquaresOptions {
  /**
   * Total starts, the family's data-driven guesses included (default 5; DeepHyper makes 10 purely random starts,
   * but guesses converge where random starts mostly wander, and each start costs about a millisecond).
   */
  restarts?: number;
  maxIterations?: number;
  /** Stop restarting once the mean squared error is below this (default 1e-12). */
  goodEnoughMse?: number;
  /**
   * Weight of a weak pull towards the family's first data-driven guess, per unit of max(1, |guess_j|)
   * (default 1e-6). With about as many points as parameters, least squares otherwise runs off to degenerate
   * curves (a step at the last point, parameters of size 1e9) whose extrapolations are meaningless.
   */
  ridge?: number;
  /**
   * Last step the curve must be valid to (no pole on [first step, horizon], see CurveModel.valid); default the last
   * observed step. The LCE stopper passes maxSteps: a fit whose curve breaks before then cannot extrapolate to it.
   */
  horizon?: number;
}

export interface LeastSquaresFit {
  rho: Float64Array;
  mse: number;
  /** Jacobian ∂f(z_i)/∂ρ_j at the solution, n×p row-major. */
  jacobian: Float64Array;
  /**
   * Every distinct local minimum the starts reached (the best first, equal to rho/mse/jacobian). With about as many
   * points as parameters several curves fit, and the lowest error is not always the most plausible one.
   */
  optima: { rho: Float64Array; mse: number; jacobian: Float64Array }[];
}

/** Sum of squared residuals, or Infinity when the curve is not finite somewhere. */
export function sumSquares(model: CurveModel, rho: ArrayLike<number>, z: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) {
    const r = model.f(z[i]!, rho) - y[i]!;
    s += r * r;
  }
  return Number.isFinite(s) ? s : Infinity;
}

/**
 * Analytic Jacobian ∂f(z_i)/∂ρ_j into `out` (n×p) and residuals f(z_i) − y_i into `residuals` when given; false when
 * a value or derivative is not finite.
 */
function jacobianAt(
  model: CurveModel,
  rho: ArrayLike<number>,
  z: ArrayLike<number>,
  out: Float64Array,
  y?: ArrayLike<number>,
  residuals?: Float64Array,
): boolean {
  const p = model.numParams;
  const row = new Float64Array(p);
  for (let i = 0; i < z.length; i++) {
    const f = model.grad(z[i]!, rho, row);
    for (let j = 0; j < p; j++) {
      const d = row[j]!;
      if (!Number.isFinite(d)) return false;
      out[i * p + j] = d;
    }
    if (residuals && y) residuals[i] = f - y[i]!;
  }
  return true;
}

/** A weak Gaussian pull of the parameters towards `center`, in units of max(1, |center_j|). */
interface Ridge {
  center: ArrayLike<number>;
  weight: number;
}

function ridgeCost(rho: ArrayLike<number>, ridge: Ridge): number {
  let c = 0;
  for (let j = 0; j < rho.length; j++) {
    const scale = Math.max(1, Math.abs(ridge.center[j]!));
    c += ((rho[j]! - ridge.center[j]!) / scale) ** 2;
  }
  return ridge.weight * c;
}

function levenbergMarquardt(
  model: CurveModel,
  start: ArrayLike<number>,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  maxIterations: number,
  ridge: Ridge,
  horizon: number,
  abandonAbove = Infinity,
): { rho: Float64Array; cost: number } {
  const zMin = z[0]!;
  const objective = (r: ArrayLike<number>) =>
    model.valid && !model.valid(r, zMin, horizon) ? Infinity : sumSquares(model, r, z, y) + ridgeCost(r, ridge);
  const n = z.length;
  const p = model.numParams;
  const rho = Float64Array.from(start);
  let cost = objective(rho);
  if (!Number.isFinite(cost)) return { rho, cost: Infinity };
  const jac = new Float64Array(n * p);
  const residuals = new Float64Array(n);
  const negG = new Float64Array(p);
  const a = new Float64Array(p * p);
  const g = new Float64Array(p);
  const damped = new Float64Array(p * p);
  const candidate = new Float64Array(p);
  let lambda = 1e-3;
  for (let iter = 0; iter < maxIterations; iter++) {
    // A random restart still far worse than the best fit after a while is not worth finishing.
    if (iter === 15 && cost > abandonAbove) break;
    if (!jacobianAt(model, rho, z, jac, y, residuals)) break;
    a.fill(0);
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const r = residuals[i]!;
      for (let j = 0; j < p; j++) {
        const jij = jac[i * p + j]!;
        g[j]! += jij * r;
        for (let k = 0; k <= j; k++) a[j * p + k]! += jij * jac[i * p + k]!;
      }
    }
    for (let j = 0; j < p; j++) {
      const scale2 = Math.max(1, Math.abs(ridge.center[j]!)) ** 2;
      a[j * p + j]! += ridge.weight / scale2;
      g[j]! += (ridge.weight * (rho[j]! - ridge.center[j]!)) / scale2;
    }
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) a[k * p + j] = a[j * p + k]!;
    let improved = false;
    while (lambda < 1e12) {
      damped.set(a);
      for (let j = 0; j < p; j++) damped[j * p + j]! += lambda * Math.max(a[j * p + j]!, 1e-12);
      const l = choleskyWithJitter(damped, p);
      for (let j = 0; j < p; j++) negG[j] = -g[j]!;
      const delta = choleskySolve(l, p, negG);
      for (let j = 0; j < p; j++) candidate[j] = rho[j]! + delta[j]!;
      const newCost = objective(candidate);
      if (newCost < cost) {
        const reduction = (cost - newCost) / Math.max(cost, 1e-300);
        let stepNorm = 0;
        for (let j = 0; j < p; j++) stepNorm = Math.max(stepNorm, Math.abs(delta[j]!) / (Math.abs(rho[j]!) + 1e-8));
        rho.set(candidate);
        cost = newCost;
        lambda = Math.max(lambda / 3, 1e-15);
        improved = true;
        if (reduction < 1e-10 || stepNorm < 1e-10 || cost < 1e-28) return { rho, cost };
        break;
      }
      lambda *= 4;
    }
    if (!improved) break;
  }
  return { rho, cost };
}

export function fitLeastSquares(
  model: CurveModel,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  rng: SeededRandom,
  options: LeastSquaresOptions = {},
): LeastSquaresFit {
  const restarts = Math.max(1, options.restarts ?? 5);
  const maxIterations = options.maxIterations ?? 200;
  const goodEnough = options.goodEnoughMse ?? 1e-12;
  const n = z.length;
  const p = model.numParams;
  const raw = model.guess(z, y);
  const guesses = (Array.isArray(raw[0]) ? raw : [raw]) as number[][];
  let best: { rho: Float64Array; cost: number } = { rho: Float64Array.from(guesses[0]!), cost: Infinity };
  const trials = Math.max(restarts, guesses.length);
  const ridge: Ridge = { center: guesses[0]!, weight: options.ridge ?? 1e-6 };
  const horizon = Math.max(options.horizon ?? z[n - 1]!, z[n - 1]!);
  const found: { rho: Float64Array; cost: number }[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const start = trial < guesses.length ? guesses[trial]! : Array.from({ length: p }, () => rng.normal());
    const guessed = trial < guesses.length;
    const fit = levenbergMarquardt(model, start, z, y, guessed ? maxIterations : Math.min(maxIterations, 60), ridge, horizon, guessed ? Infinity : 4 * best.cost);
    if (Number.isFinite(fit.cost) && !found.some((f) => sameParameters(f.rho, fit.rho))) found.push(fit);
    if (fit.cost < best.cost) best = fit;
    if (best.cost / n < goodEnough) break;
  }
  if (found.length === 0) found.push(best);
  found.sort((a, b) => a.cost - b.cost);
  const optima = found.map((fit) => {
    const jacobian = new Float64Array(n * p);
    if (!jacobianAt(model, fit.rho, z, jacobian)) jacobian.fill(0);
    return { rho: fit.rho, mse: sumSquares(model, fit.rho, z, y) / n, jacobian };
  });
  return { ...optima[0]!, optima };
}

function sameParameters(a: Float64Array, b: Float64Array): boolean {
  for (let j = 0; j < a.length; j++) if (Math.abs(a[j]! - b[j]!) > 1e-6 * Math.max(1, Math.abs(a[j]!))) return false;
  return true;
}
