// Bayesian learning-curve regression in the model of DeepHyper's BayesianLearningCurveRegressor:
//   ρ ~ N(ρ_LS, s²), σ ~ Exponential(1), y_i ~ N(f(z_i; ρ), σ²),
// with ρ_LS the least-squares fit and s = max(1, |ρ_LS|) (DeepHyper: s = 1). DeepHyper samples it with NUTS
// (jax/numpyro); we use Metropolis-within-Gibbs in a non-centred parametrisation (below), with step sizes and the
// proposal shape adapted during warm-up. No autodiff; about 15–25 ms of CPU per fit at 50 points.

import { SeededRandom } from '../../learn/random.js';
import { fitLeastSquares, sumSquares, type LeastSquaresOptions } from './least-squares.js';
import { cholesky, choleskyWithJitter } from './linalg.js';
import type { CurveModel } from './models.js';

export interface BayesianCurveOptions extends LeastSquaresOptions {
  /** Warm-up (adaptation) iterations, discarded (default 200, as DeepHyper). */
  numWarmup?: number;
  /** Posterior samples kept (default 1000, as DeepHyper). */
  numSamples?: number;
  /**
   * Std of the Normal prior around the least-squares parameters, relative to their size: parameter j gets
   * priorScale·max(1, |ρ_LS,j|) (default 1). DeepHyper uses 1 for all; scaling it keeps the prior as loose for a
   * parameter of size 1e3 (e.g. mmf4's ρ1 = z_half^ρ3) as for one of size 1.
   */
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
    /** Fraction of accepted ρ proposals after warm-up. */
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
  const ls = fitLeastSquares(model, z, y, rng, options);
  const prior = ls.rho;
  const priorPrecision = Float64Array.from(prior, (v) => 1 / (priorScale * Math.max(1, Math.abs(v))) ** 2);

  const logPrior = (rho: ArrayLike<number>): number => {
    let lp = 0;
    for (let j = 0; j < p; j++) lp -= 0.5 * priorPrecision[j]! * (rho[j]! - prior[j]!) ** 2;
    return lp;
  };
  // log p(ρ, s | y) with s = log σ: Gaussian likelihood, Normal prior on ρ, Exponential(1) prior on σ plus the
  // log-Jacobian of sampling s. Written in terms of SSR(ρ) so a σ move reuses the current SSR.
  const logPosterior = (ssr: number, lp: number, logSigma: number): number => {
    if (!Number.isFinite(ssr)) return -Infinity;
    const sigma = Math.exp(logSigma);
    if (!(sigma > 0) || !Number.isFinite(sigma)) return -Infinity;
    return -n * logSigma - (0.5 * ssr) / (sigma * sigma) + lp - sigma + logSigma;
  };

  // Non-centred parametrisation: ρ = ρ_LS + R(σ)·η with R(σ)R(σ)ᵀ = (JᵀJ/σ² + prior precision)⁻¹, the Laplace
  // covariance of ρ given σ (J at ρ_LS). The sampler walks on (η, log σ). With few points σ is barely determined
  // and a centred sampler falls into the σ → 0 funnel (near-interpolating curves, falsely certain extrapolations);
  // here a move of σ rescales ρ's spread with it, so the chain sees the whole posterior.
  const jtj = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) jtj[j * p + k]! += ls.jacobian[i * p + j]! * ls.jacobian[i * p + k]!;
    }
  }
  const precision = new Float64Array(p * p);
  const offset = new Float64Array(p);
  /** ρ for (η, log σ) into `out`; returns log|det R(σ)| (the Jacobian of the change of variables). */
  const rhoOf = (eta: Float64Array, logSigma: number, out: Float64Array): number => {
    const sigma2 = Math.exp(2 * logSigma);
    for (let j = 0; j < p * p; j++) precision[j] = jtj[j]! / sigma2;
    for (let j = 0; j < p; j++) precision[j * p + j]! += priorPrecision[j]!;
    const l = choleskyWithJitter(precision, p);
    solveUpperTransposed(l, p, eta, offset);
    let logDet = 0;
    for (let j = 0; j < p; j++) {
      out[j] = prior[j]! + offset[j]!;
      logDet -= Math.log(l[j * p + j]!);
    }
    return logDet;
  };
  const logTarget = (eta: Float64Array, logSigma: number, rhoOut: Float64Array): number => {
    if (!Number.isFinite(logSigma) || logSigma < -40 || logSigma > 10) return -Infinity;
    const logDet = rhoOf(eta, logSigma, rhoOut);
    return logPosterior(sumSquares(model, rhoOut, z, y), logPrior(rhoOut), logSigma) + logDet;
  };

  const eta = new Float64Array(p);
  const rho = new Float64Array(p);
  let logSigma = Math.log(Math.max(Math.sqrt((ls.mse * n) / Math.max(1, n - 1)), 1e-10));
  let current = logTarget(eta, logSigma, rho);
  let logScaleEta = Math.log(2.38 / Math.sqrt(p));
  let logScaleSigma = Math.log(1 / Math.sqrt(2 * Math.max(1, n)));

  // Shape of the η proposal: identity at first, then (adaptive Metropolis, Haario et al. 2001) the covariance of
  // the second half of the warm-up, which captures the correlations the Laplace approximation missed.
  const shape = new Float64Array(p * p);
  for (let j = 0; j < p; j++) shape[j * p + j] = 1;
  const half = Math.floor(numWarmup / 2);
  const etaMean = new Float64Array(p);
  const etaCross = new Float64Array(p * p);
  let etaCount = 0;
  const noise = new Float64Array(p);
  const samples = new Float64Array(numSamples * p);
  const candidateEta = new Float64Array(p);
  const candidateRho = new Float64Array(p);
  let accepted = 0;
  for (let it = 0; it < numWarmup + numSamples; it++) {
    // η | σ
    const scaleEta = Math.exp(logScaleEta);
    for (let j = 0; j < p; j++) noise[j] = rng.normal();
    for (let j = 0; j < p; j++) {
      let d = 0;
      for (let k = 0; k <= j; k++) d += shape[j * p + k]! * noise[k]!;
      candidateEta[j] = eta[j]! + scaleEta * d;
    }
    const proposedEta = logTarget(candidateEta, logSigma, candidateRho);
    const acceptEta = Number.isFinite(proposedEta) && Math.log(rng.next()) < proposedEta - current;
    if (acceptEta) {
      eta.set(candidateEta);
      rho.set(candidateRho);
      current = proposedEta;
    }
    // log σ | η (ρ moves with σ through R(σ))
    const candidateLogSigma = logSigma + Math.exp(logScaleSigma) * rng.normal();
    const proposedSigma = logTarget(eta, candidateLogSigma, candidateRho);
    const acceptSigma = Number.isFinite(proposedSigma) && Math.log(rng.next()) < proposedSigma - current;
    if (acceptSigma) {
      logSigma = candidateLogSigma;
      rho.set(candidateRho);
      current = proposedSigma;
    }
    if (it < numWarmup) {
      // Robbins–Monro steps towards the usual random-walk acceptance rates.
      const gain = 1 / Math.sqrt(it + 1);
      logScaleEta += gain * ((acceptEta ? 1 : 0) - 0.3);
      logScaleSigma += gain * ((acceptSigma ? 1 : 0) - 0.44);
      if (it >= half) {
        etaCount++;
        for (let j = 0; j < p; j++) {
          etaMean[j]! += eta[j]!;
          for (let k = 0; k < p; k++) etaCross[j * p + k]! += eta[j]! * eta[k]!;
        }
      }
      if (it === numWarmup - 1 && etaCount > 2 * p) {
        const cov = new Float64Array(p * p);
        for (let j = 0; j < p; j++) {
          for (let k = 0; k < p; k++) {
            cov[j * p + k] = etaCross[j * p + k]! / etaCount - (etaMean[j]! / etaCount) * (etaMean[k]! / etaCount);
          }
          cov[j * p + j]! += 1e-6;
        }
        const l = cholesky(cov, p);
        if (l) {
          shape.set(l);
          logScaleEta = Math.log(2.38 / Math.sqrt(p));
        }
      }
    } else {
      if (acceptEta) accepted++;
      samples.set(rho, (it - numWarmup) * p);
    }
  }
  return new BayesianCurveFit(model, samples, numSamples, prior, ls.mse, numSamples > 0 ? accepted / numSamples : 0);
}

/** Solve Lᵀ x = b for x (L lower triangular, row-major): x ~ N(0, (L Lᵀ)⁻¹) when b ~ N(0, I). */
function solveUpperTransposed(l: Float64Array, p: number, b: Float64Array, x: Float64Array): void {
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
}
