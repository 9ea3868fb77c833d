// Bayesian learning-curve regression in the model of DeepHyper's BayesianLearningCurveRegressor:
//   ρ ~ N(ρ_LS, 1), σ ~ Exponential(1), y_i ~ N(f(z_i; ρ), σ²),
// with ρ_LS the least-squares fit. DeepHyper samples it with NUTS (jax/numpyro); we use random-walk Metropolis on
// (ρ, log σ) whose proposal covariance is the Laplace approximation at the least-squares point, adapted during
// warm-up. Same posterior, no autodiff, a few milliseconds per fit at 50 points.

import { SeededRandom } from '../../learn/random.js';
import { fitLeastSquares, sumSquares, type LeastSquaresOptions } from './least-squares.js';
import { choleskyInverse, choleskyWithJitter } from './linalg.js';
import type { CurveModel } from './models.js';

export interface BayesianCurveOptions extends LeastSquaresOptions {
  /** Warm-up (adaptation) iterations, discarded (default 200, as DeepHyper). */
  numWarmup?: number;
  /** Posterior samples kept (default 1000, as DeepHyper). */
  numSamples?: number;
  /** Std of the Normal prior around the least-squares parameters (default 1). */
  priorScale?: number;
}

export class BayesianCurveFit {
  constructor(
    readonly model: CurveModel,
    /** numSamples × numParams, row-major. */
    readonly samples: Float64Array,
    readonly numSamples: number,
    /** Least-squares parameters (the prior mean). */
    readonly rhoLeastSquares: Float64Array,
    readonly mseLeastSquares: number,
    /** Fraction of accepted proposals after warm-up. */
    readonly acceptanceRate: number,
  ) {}

  /** Values of the curve at `z` under each posterior sample (non-finite values are kept as NaN). */
  predictSamples(z: number): Float64Array {
    const p = this.model.numParams;
    const out = new Float64Array(this.numSamples);
    for (let s = 0; s < this.numSamples; s++) {
      const v = this.model.f(z, this.samples.subarray(s * p, s * p + p));
      out[s] = Number.isFinite(v) ? v : NaN;
    }
    return out;
  }

  /** Posterior mean and std of the curve at `z`. */
  predict(z: number): { mean: number; std: number } {
    const values = this.predictSamples(z);
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      n++;
      sum += v;
      sq += v * v;
    }
    if (n === 0) return { mean: NaN, std: NaN };
    const mean = sum / n;
    return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
  }

  /** Posterior probability that the curve at `z` satisfies `condition` (samples with no finite value excluded). */
  prob(z: number, condition: (value: number) => boolean): number {
    let n = 0;
    let hits = 0;
    for (const v of this.predictSamples(z)) {
      if (Number.isNaN(v)) continue;
      n++;
      if (condition(v)) hits++;
    }
    return n === 0 ? 0 : hits / n;
  }
}

export function fitBayesianCurve(
  model: CurveModel,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  seed: number,
  options: BayesianCurveOptions = {},
): BayesianCurveFit {
  const rng = new SeededRandom(seed);
  const numWarmup = options.numWarmup ?? 200;
  const numSamples = options.numSamples ?? 1000;
  const priorScale = options.priorScale ?? 1;
  const n = z.length;
  const p = model.numParams;
  const d = p + 1;
  const ls = fitLeastSquares(model, z, y, rng, options);
  const prior = ls.rho;
  const priorPrecision = 1 / (priorScale * priorScale);

  const logPosterior = (theta: Float64Array): number => {
    const logSigma = theta[p]!;
    const sigma = Math.exp(logSigma);
    if (!(sigma > 0) || !Number.isFinite(sigma)) return -Infinity;
    const ssr = sumSquares(model, theta.subarray(0, p), z, y);
    if (!Number.isFinite(ssr)) return -Infinity;
    let logPrior = 0;
    for (let j = 0; j < p; j++) logPrior -= 0.5 * priorPrecision * (theta[j]! - prior[j]!) ** 2;
    // Exponential(1) prior on σ plus the log-Jacobian of sampling log σ.
    return -n * logSigma - (0.5 * ssr) / (sigma * sigma) + logPrior - sigma + logSigma;
  };

  // Start at the least-squares point with σ at its conditional mode.
  const sigma0 = Math.max(Math.sqrt((ls.mse * n) / Math.max(1, n - 1)), 1e-10);
  const theta = new Float64Array(d);
  theta.set(prior);
  theta[p] = Math.log(sigma0);
  let current = logPosterior(theta);

  // Laplace covariance of ρ: (JᵀJ/σ² + prior precision)⁻¹; log σ: 1/(2n).
  const precision = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) precision[j * p + k]! += (ls.jacobian[i * p + j]! * ls.jacobian[i * p + k]!) / (sigma0 * sigma0);
    }
  }
  for (let j = 0; j < p; j++) precision[j * p + j]! += priorPrecision;
  const covRho = choleskyInverse(choleskyWithJitter(precision, p), p);
  const cov = new Float64Array(d * d);
  for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) cov[j * d + k] = covRho[j * p + k]!;
  cov[p * d + p] = 1 / (2 * Math.max(1, n));
  const chol = choleskyWithJitter(cov, d);

  let logScale = Math.log(2.38 / Math.sqrt(d));
  const samples = new Float64Array(numSamples * p);
  const proposal = new Float64Array(d);
  const eps = new Float64Array(d);
  let accepted = 0;
  for (let it = 0; it < numWarmup + numSamples; it++) {
    const scale = Math.exp(logScale);
    for (let j = 0; j < d; j++) eps[j] = rng.normal();
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += chol[j * d + k]! * eps[k]!;
      proposal[j] = theta[j]! + scale * s;
    }
    const candidate = logPosterior(proposal);
    const accept = Number.isFinite(candidate) && Math.log(rng.next()) < candidate - current;
    if (accept) {
      theta.set(proposal);
      current = candidate;
    }
    if (it < numWarmup) {
      // Robbins–Monro step towards the 0.234 acceptance rate of random-walk Metropolis.
      logScale += ((accept ? 1 : 0) - 0.234) / Math.sqrt(it + 1);
    } else {
      if (accept) accepted++;
      samples.set(theta.subarray(0, p), (it - numWarmup) * p);
    }
  }
  return new BayesianCurveFit(model, samples, numSamples, prior, ls.mse, numSamples > 0 ? accepted / numSamples : 0);
}
