// Acquisition functions and the exploration schedule. Values are for a minimization model (DeepHyper's internal
// convention): lower is better. In user terms UCBd(x) = mean + κ·epistemic std of the maximized objective.
import type { Prediction } from './forest.js';

export type AcqFunc = 'UCBd' | 'UCB' | 'EI' | 'PI' | 'qUCBd';
export const ACQ_FUNCS: readonly AcqFunc[] = ['UCBd', 'UCB', 'EI', 'PI', 'qUCBd'];

export interface SchedulerOptions {
  /** 'periodic-exp-decay' (default) or 'constant'. */
  type: 'periodic-exp-decay' | 'constant';
  period: number;
  kappaFinal: number;
  xiFinal: number;
}

export const DEFAULT_SCHEDULER: SchedulerOptions = { type: 'periodic-exp-decay', period: 10, kappaFinal: 0.01, xiFinal: 1e-4 };

/**
 * Periodic exponential decay of an exploration parameter: η_i = η0 · exp(−rate · ((i − 1 − delay) mod period)),
 * rate = ln(η0/η_final)/period, with a non-negative modulo (so it also cycles during the initial phase).
 * `i` is the number of configurations asked before this one; `delay` the number of initial points.
 */
export function periodicExpDecay(i: number, eta0: number, etaFinal: number, period: number, delay: number): number {
  const rate = Math.log(eta0 / etaFinal) / period;
  const k = (((i - 1 - delay) % period) + period) % period;
  return eta0 * Math.exp(-rate * k);
}

export function scheduledKappa(i: number, kappa: number, s: SchedulerOptions, delay: number): number {
  return s.type === 'constant' ? kappa : periodicExpDecay(i, kappa, s.kappaFinal, s.period, delay);
}

export function scheduledXi(i: number, xi: number, s: SchedulerOptions, delay: number): number {
  return s.type === 'constant' ? xi : periodicExpDecay(i, xi, s.xiFinal, s.period, delay);
}

export interface AcqParams {
  kind: 'UCBd' | 'UCB' | 'EI' | 'PI';
  kappa: number;
  xi: number;
  /** Best (lowest) target seen, for EI and PI. */
  yBest: number;
}

/** Fills `out[i]` with the acquisition value of prediction i (to minimize). */
export function acquisition(p: Prediction, m: number, a: AcqParams, out: Float64Array): Float64Array {
  const { mean, epistemicVar, aleatoricVar } = p;
  switch (a.kind) {
    case 'UCBd':
      for (let i = 0; i < m; i++) out[i] = mean[i]! - a.kappa * Math.sqrt(epistemicVar[i]!);
      return out;
    case 'UCB':
      for (let i = 0; i < m; i++) out[i] = mean[i]! - a.kappa * Math.sqrt(epistemicVar[i]! + aleatoricVar[i]!);
      return out;
    case 'EI':
    case 'PI':
      for (let i = 0; i < m; i++) {
        const sd = Math.sqrt(epistemicVar[i]! + aleatoricVar[i]!);
        const improve = a.yBest - a.xi - mean[i]!;
        if (sd <= 0) {
          out[i] = a.kind === 'EI' ? -Math.max(0, improve) : improve > 0 ? -1 : 0;
          continue;
        }
        const z = improve / sd;
        out[i] = a.kind === 'EI' ? -(improve * normCdf(z) + sd * normPdf(z)) : -normCdf(z);
      }
      return out;
  }
}

export function normPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** Standard normal CDF (erfc-based, |error| < 1.2e-7). */
export function normCdf(z: number): number {
  const x = -z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const erfcAbs =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  const erfc = x >= 0 ? erfcAbs : 2 - erfcAbs;
  return 0.5 * erfc;
}
