// Bayesian learning-curve regression in the model of DeepHyper's BayesianLearningCurveRegressor:
//   ρ ~ N(ρ_LS, s²), σ ~ Exponential(1), y_i ~ N(f(z_i; ρ), σ²),
// with ρ_LS the least-squares fit and s = max(1, |ρ_LS|) (DeepHyper: s = 1). DeepHyper samples it with NUTS
// (jax/numpyro). Here σ is integrated out and ρ's marginal posterior is sampled by adaptive importance sampling
// (population Monte Carlo): independent draws from a defensive mixture — the prior itself, a Student-t around the
// Laplace approximation, then Student-t's fitted to the weighted draws so far — weighted by target/mixture.
// Independent draws cannot get stuck in one corner of a curved, multi-modal posterior the way a random walk does,
// and the prior component bounds every weight, so extrapolations from few points keep their real spread.
// Curves with a pole before the horizon (CurveModel.valid) have no prior mass: past a pole a curve says nothing.

import { SeededRandom } from '../../learn/random.js';
import { fitLeastSquares, type LeastSquaresOptions } from './least-squares.js';
import { cholesky, choleskyWithJitter } from './linalg.js';
import type { CurveModel } from './models.js';

export interface BayesianCurveOptions extends LeastSquaresOptions {
  /** Draws of the two adaptation rounds (prior + Laplace proposal, then a first fitted Student-t) (default 1000). */
  numWarmup?: number;
  /** Draws of the final round (default 2000). All draws of all rounds are kept, with their weights. */
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
    /** Normalized importance weight of each sample (they sum to 1). */
    readonly weights: Float64Array,
    /** Least-squares parameters (the prior mean). */
    readonly rhoLeastSquares: Float64Array,
    readonly mseLeastSquares: number,
  ) {}

  /** Kish's effective sample size of the weighted draws, 1/Σw². */
  get effectiveSampleSize(): number {
    let s = 0;
    for (const w of this.weights) s += w * w;
    return s > 0 ? 1 / s : 0;
  }

  /** Values of the curve at `z` under each posterior sample (non-finite values are kept as NaN). */
  predictSamples(z: number): Float64Array {
    const p = this.model.numParams;
    const out = new Float64Array(this.numSamples);
    const rho = new Float64Array(p);
    for (let s = 0; s < this.numSamples; s++) {
      for (let j = 0; j < p; j++) rho[j] = this.samples[s * p + j]!;
      const v = this.model.f(z, rho);
      out[s] = Number.isFinite(v) ? v : NaN;
    }
    return out;
  }

  /** Posterior mean and std of the curve at `z`. */
  predict(z: number): { mean: number; std: number } {
    const values = this.predictSamples(z);
    let total = 0;
    let sum = 0;
    let sq = 0;
    for (let s = 0; s < values.length; s++) {
      const v = values[s]!;
      const w = this.weights[s]!;
      if (Number.isNaN(v) || w === 0) continue;
      total += w;
      sum += w * v;
      sq += w * v * v;
    }
    if (total === 0) return { mean: NaN, std: NaN };
    const mean = sum / total;
    return { mean, std: Math.sqrt(Math.max(0, sq / total - mean * mean)) };
  }

  /** Posterior quantiles of the curve at `z` (levels in [0, 1]). */
  quantiles(z: number, levels: readonly number[]): number[] {
    const values = this.predictSamples(z);
    const order = Array.from(values.keys()).filter((s) => !Number.isNaN(values[s]!) && this.weights[s]! > 0);
    if (order.length === 0) return levels.map(() => NaN);
    order.sort((a, b) => values[a]! - values[b]!);
    let total = 0;
    for (const s of order) total += this.weights[s]!;
    return levels.map((q) => {
      let cumulative = 0;
      for (const s of order) {
        cumulative += this.weights[s]! / total;
        if (cumulative >= q) return values[s]!;
      }
      return values[order[order.length - 1]!]!;
    });
  }

  /** Posterior probability that the curve at `z` satisfies `condition` (samples with no finite value excluded). */
  prob(z: number, condition: (value: number) => boolean): number {
    const values = this.predictSamples(z);
    let total = 0;
    let hits = 0;
    for (let s = 0; s < values.length; s++) {
      const v = values[s]!;
      if (Number.isNaN(v)) continue;
      total += this.weights[s]!;
      if (condition(v)) hits += this.weights[s]!;
    }
    return total === 0 ? 0 : hits / total;
  }
}

/** A multivariate Student-t (ν degrees of freedom) or, with ν = Infinity, Normal proposal: mean and Cholesky factor. */
interface Proposal {
  mean: Float64Array;
  chol: Float64Array;
  nu: number;
  /** log of the density's normalising constant, log|L| included. */
  logNorm: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
const T_DOF = 3;

function makeProposal(mean: Float64Array, chol: Float64Array, nu: number): Proposal {
  const p = mean.length;
  let logDet = 0;
  for (let j = 0; j < p; j++) logDet += Math.log(chol[j * p + j]!);
  const logNorm = Number.isFinite(nu)
    ? logGamma((nu + p) / 2) - logGamma(nu / 2) - (p / 2) * Math.log(nu * Math.PI) - logDet
    : -(p / 2) * LOG_2PI - logDet;
  return { mean, chol, nu, logNorm };
}

function logDensity(q: Proposal, x: Float64Array, scratch: Float64Array): number {
  const p = q.mean.length;
  // Mahalanobis distance through L⁻¹(x − μ), L lower triangular.
  let m = 0;
  for (let i = 0; i < p; i++) {
    let s = x[i]! - q.mean[i]!;
    for (let k = 0; k < i; k++) s -= q.chol[i * p + k]! * scratch[k]!;
    scratch[i] = s / q.chol[i * p + i]!;
    m += scratch[i]! * scratch[i]!;
  }
  return Number.isFinite(q.nu) ? q.logNorm - ((q.nu + p) / 2) * Math.log1p(m / q.nu) : q.logNorm - m / 2;
}

function draw(q: Proposal, rng: SeededRandom, out: Float64Array, noise: Float64Array): void {
  const p = q.mean.length;
  for (let j = 0; j < p; j++) noise[j] = rng.normal();
  let scale = 1;
  if (Number.isFinite(q.nu)) {
    // χ²_ν / ν from ν standard normals (ν is a small integer here).
    let chi2 = 0;
    for (let k = 0; k < q.nu; k++) chi2 += rng.normal() ** 2;
    scale = 1 / Math.sqrt(chi2 / q.nu);
  }
  for (let i = 0; i < p; i++) {
    let d = 0;
    for (let k = 0; k <= i; k++) d += q.chol[i * p + k]! * noise[k]!;
    out[i] = q.mean[i]! + scale * d;
  }
}

/** Lanczos approximation of ln Γ(x), x > 0. */
function logGamma(x: number): number {
  const c = [676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = 0.9999999999998099;
  const t = x + 7.5;
  for (let i = 0; i < 8; i++) a += c[i]! / (x + i + 1);
  return 0.5 * LOG_2PI + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

export function fitBayesianCurve(
  model: CurveModel,
  z: ArrayLike<number>,
  y: ArrayLike<number>,
  seed: number,
  options: BayesianCurveOptions = {},
): BayesianCurveFit {
  const rng = new SeededRandom(seed);
  const numFirst = Math.max(0, Math.floor(options.numWarmup ?? 1000));
  const numSecond = Math.max(1, Math.floor(options.numSamples ?? 2000));
  const priorScale = options.priorScale ?? 1;
  const n = z.length;
  const p = model.numParams;
  const zs = Float64Array.from(z as ArrayLike<number>);
  const ys = Float64Array.from(y as ArrayLike<number>);
  const ls = fitLeastSquares(model, zs, ys, rng, options);
  const zMin = zs[0]!;
  const horizon = Math.max(options.horizon ?? zs[n - 1]!, zs[n - 1]!);
  const halfDof = Math.max(0.5, (n - 1) / 2);
  // σ integrated out: ∫ σ⁻ⁿ exp(−S/2σ²) e^(−σ) dσ ∝ S^(−(n−1)/2)·E[e^(−σ)], the last factor taken at σ̂ = √(S/(n−1))
  // (σ is a few hundredths here, so it moves weights by a few percent at most).
  const logLikelihood = (rho: ArrayLike<number>): number => {
    if (model.valid && !model.valid(rho, zMin, horizon)) return -Infinity;
    let ssr = 0;
    for (let i = 0; i < n; i++) {
      const r = model.f(zs[i]!, rho) - ys[i]!;
      ssr += r * r;
    }
    if (!Number.isFinite(ssr)) return -Infinity;
    ssr = Math.max(ssr, 1e-300);
    return -halfDof * Math.log(ssr) - Math.sqrt(ssr / Math.max(1, n - 1));
  };
  const stdAround = (rho: Float64Array) => Float64Array.from(rho, (v) => priorScale * Math.max(1, Math.abs(v)));
  // Which least-squares solution centres the prior: the one of highest Laplace evidence, not merely the lowest error.
  // With as many points as parameters a knife-edge curve (a step between two observed steps) can fit 20× better than
  // a smooth one, yet occupy a sliver of parameter space; the evidence weighs fit against that volume (Occam).
  let chosen = ls.optima[0]!;
  let bestEvidence = -Infinity;
  for (const optimum of ls.optima) {
    const std = stdAround(optimum.rho);
    const precision = laplacePrecision(optimum.jacobian, n, p, Math.max(optimum.mse * n, 1e-300) / Math.max(1, n - 1), std);
    const l = choleskyWithJitter(precision, p);
    let evidence = logLikelihood(optimum.rho);
    for (let j = 0; j < p; j++) evidence -= Math.log(std[j]!) + Math.log(l[j * p + j]!);
    if (evidence > bestEvidence) {
      bestEvidence = evidence;
      chosen = optimum;
    }
  }
  const prior = chosen.rho;
  const priorStd = stdAround(prior);
  const logTarget = (rho: Float64Array): number => {
    let lp = 0;
    for (let j = 0; j < p; j++) {
      const d = (rho[j]! - prior[j]!) / priorStd[j]!;
      lp -= 0.5 * d * d;
    }
    return lp + logLikelihood(rho);
  };

  // Proposals. The prior (defensive: weights stay below likelihood/share) and a heavy-tailed Laplace approximation
  // (JᵀJ/σ̂² + prior precision)⁻¹ at ρ_LS, widened ×1.5 against the curvature it misses.
  const priorChol = new Float64Array(p * p);
  for (let j = 0; j < p; j++) priorChol[j * p + j] = priorStd[j]!;
  const priorProposal = makeProposal(prior, priorChol, Infinity);
  const sigma2 = Math.max((chosen.mse * n) / Math.max(1, n - p), 1e-6);
  const precision = laplacePrecision(chosen.jacobian, n, p, sigma2, priorStd);
  const laplaceProposal = makeProposal(prior, scaledCholesky(inverseSpd(precision, p), p, 1.5), T_DOF);

  const total = numFirst + numSecond;
  const samples = new Float64Array(total * p);
  const logTargets = new Float64Array(total);
  const x = new Float64Array(p);
  const noise = new Float64Array(p);
  const scratch = new Float64Array(p);
  const sampleRound = (from: number, count: number, mixture: { q: Proposal; share: number }[]) => {
    for (let s = from; s < from + count; s++) {
      let u = rng.next();
      let k = 0;
      while (k < mixture.length - 1 && u >= mixture[k]!.share) u -= mixture[k++]!.share;
      draw(mixture[k]!.q, rng, x, noise);
      samples.set(x, s * p);
      logTargets[s] = logTarget(x);
    }
  };

  // Rounds: the first draws from the prior and the Laplace proposal; each later one mostly from a Student-t with
  // the weighted mean and covariance of all draws so far (widened ×2), which walks out along curved ridges
  // (slow exponent ↔ high plateau) that the Laplace approximation misses; the prior and Laplace stay in as defence.
  const half = Math.floor(numFirst / 2);
  const sizes = [half, numFirst - half, numSecond].filter((size) => size > 0);
  const rounds: { draws: number; mixture: { q: Proposal; share: number }[] }[] = [];
  let drawn = 0;
  let mixture = [
    { q: priorProposal, share: 0.25 },
    { q: laplaceProposal, share: 0.75 },
  ];
  for (const size of sizes) {
    if (rounds.length > 0 && drawn > 4 * p) {
      const w = normalizedWeights(logTargets, samples, 0, drawn, p, rounds, scratch);
      const fitted = weightedMoments(samples, w, 0, drawn, p);
      if (fitted && cholesky(fitted.cov, p)) {
        mixture = [
          { q: priorProposal, share: 0.1 },
          { q: laplaceProposal, share: 0.2 },
          { q: makeProposal(fitted.mean, scaledCholesky(fitted.cov, p, 2), T_DOF), share: 0.7 },
        ];
      }
    }
    sampleRound(drawn, size, mixture);
    rounds.push({ draws: size, mixture });
    drawn += size;
  }
  // Every draw is weighted against the average proposal of all rounds (deterministic-mixture weights), then
  // truncated at mean·√N (Ionides 2008): with as many points as parameters the target has integrable spikes at
  // interpolating curves, which would otherwise let one draw take all the weight.
  const weights = normalizedWeights(logTargets, samples, 0, drawn, p, rounds, scratch);
  truncateWeights(weights);
  return new BayesianCurveFit(model, samples.subarray(0, drawn * p), drawn, weights, prior, chosen.mse);
}

/** JᵀJ/σ² + diag(1/std²): the Gauss–Newton precision of ρ at a least-squares solution. */
function laplacePrecision(jacobian: Float64Array, n: number, p: number, sigma2: number, std: Float64Array): Float64Array {
  const precision = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      for (let k = 0; k < p; k++) precision[j * p + k]! += (jacobian[i * p + j]! * jacobian[i * p + k]!) / sigma2;
    }
  }
  for (let j = 0; j < p; j++) precision[j * p + j]! += 1 / std[j]! ** 2;
  return precision;
}

function normalizedWeights(
  logTargets: Float64Array,
  samples: Float64Array,
  from: number,
  to: number,
  p: number,
  rounds: { draws: number; mixture: { q: Proposal; share: number }[] }[],
  scratch: Float64Array,
): Float64Array {
  const drawn = rounds.reduce((a, r) => a + r.draws, 0);
  const components: { q: Proposal; logShare: number }[] = [];
  for (const r of rounds) {
    for (const c of r.mixture) components.push({ q: c.q, logShare: Math.log((c.share * r.draws) / drawn) });
  }
  const logW = new Float64Array(to - from);
  const x = new Float64Array(p);
  const terms = new Float64Array(components.length);
  let max = -Infinity;
  for (let s = from; s < to; s++) {
    for (let j = 0; j < p; j++) x[j] = samples[s * p + j]!;
    let m = -Infinity;
    for (let c = 0; c < components.length; c++) {
      const v = components[c]!.logShare + logDensity(components[c]!.q, x, scratch);
      terms[c] = v;
      if (v > m) m = v;
    }
    let sum = 0;
    for (let c = 0; c < terms.length; c++) sum += Math.exp(terms[c]! - m);
    const lw = logTargets[s]! - (m + Math.log(sum));
    logW[s - from] = Number.isNaN(lw) ? -Infinity : lw;
    if (logW[s - from]! > max) max = logW[s - from]!;
  }
  const w = new Float64Array(to - from);
  if (!Number.isFinite(max)) return w;
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i] = Math.exp(logW[i]! - max);
  for (let i = 0; i < w.length; i++) w[i]! /= total;
  return w;
}

function truncateWeights(w: Float64Array): void {
  const cap = Math.sqrt(w.length) / w.length;
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i] = Math.min(w[i]!, cap);
  if (total > 0) for (let i = 0; i < w.length; i++) w[i]! /= total;
}

function weightedMoments(samples: Float64Array, w: Float64Array, from: number, to: number, p: number): { mean: Float64Array; cov: Float64Array } | null {
  const mean = new Float64Array(p);
  let total = 0;
  let sq = 0;
  for (let s = from; s < to; s++) {
    const ws = w[s - from]!;
    total += ws;
    sq += ws * ws;
    for (let j = 0; j < p; j++) mean[j]! += ws * samples[s * p + j]!;
  }
  // Too few effective draws to shape a proposal.
  if (!(total > 0) || (total * total) / sq < 2 * p) return null;
  for (let j = 0; j < p; j++) mean[j]! /= total;
  const cov = new Float64Array(p * p);
  for (let s = from; s < to; s++) {
    const ws = w[s - from]! / total;
    for (let j = 0; j < p; j++) {
      const dj = samples[s * p + j]! - mean[j]!;
      for (let k = 0; k <= j; k++) cov[j * p + k]! += ws * dj * (samples[s * p + k]! - mean[k]!);
    }
  }
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) cov[k * p + j] = cov[j * p + k]!;
    cov[j * p + j]! += 1e-12 * Math.max(1, mean[j]! ** 2);
  }
  return { mean, cov };
}

/** Cholesky factor of factor²·A (A symmetric positive definite, made so with jitter if needed). */
function scaledCholesky(a: Float64Array, p: number, factor: number): Float64Array {
  const l = choleskyWithJitter(a, p);
  for (let i = 0; i < l.length; i++) l[i]! *= factor;
  return l;
}

/** Inverse of a symmetric positive-definite p×p matrix through its Cholesky factor. */
function inverseSpd(a: Float64Array, p: number): Float64Array {
  const l = choleskyWithJitter(a, p);
  const inv = new Float64Array(p * p);
  const column = new Float64Array(p);
  for (let c = 0; c < p; c++) {
    // Solve L Lᵀ x = e_c.
    for (let i = 0; i < p; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * p + k]! * column[k]!;
      column[i] = s / l[i * p + i]!;
    }
    for (let i = p - 1; i >= 0; i--) {
      let s = column[i]!;
      for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * column[k]!;
      column[i] = s / l[i * p + i]!;
    }
    for (let i = 0; i < p; i++) inv[i * p + c] = column[i]!;
  }
  return inv;
}
