// Parametric learning-curve families f(z; ρ), as DeepHyper defines them (stopper/lce/_bayesian_regression.py),
// z being the step (≥ 1). Each family also proposes a starting point from the data so that least squares begins
// near a sensible curve before the random restarts DeepHyper uses.

export type CurveModelName =
  | 'lin2'
  | 'pow3'
  | 'mmf4'
  | 'vapor3'
  | 'logloglin2'
  | 'hill3'
  | 'logpow3'
  | 'pow4'
  | 'exp4'
  | 'janoschek4'
  | 'weibull4'
  | 'ilog2'
  | 'arctan3';

export interface CurveModel {
  readonly name: CurveModelName;
  readonly numParams: number;
  readonly formula: string;
  f(z: number, rho: ArrayLike<number>): number;
  /** Starting points for least squares from the observed curve (steps ascending), best first. */
  guess(z: ArrayLike<number>, y: ArrayLike<number>): number[] | number[][];
}

interface Summary {
  first: number;
  last: number;
  zMid: number;
  /** First step where the curve covers half of its way from first to last value. */
  zHalf: number;
}

function summarize(z: ArrayLike<number>, y: ArrayLike<number>): Summary {
  const n = y.length;
  // Average a few points at each end: a single noisy point makes a poor anchor.
  const w = Math.max(1, Math.min(3, Math.floor(n / 3)));
  let first = 0;
  let last = 0;
  for (let i = 0; i < w; i++) {
    first += y[i]!;
    last += y[n - 1 - i]!;
  }
  first /= w;
  last /= w;
  let zHalf = z[Math.floor(n / 2)]!;
  for (let i = 0; i < n; i++) {
    if ((y[i]! - first) * Math.sign(last - first) >= Math.abs(last - first) / 2) {
      zHalf = z[i]!;
      break;
    }
  }
  return { first, last, zMid: z[Math.floor(n / 2)]!, zHalf };
}

const models: Record<CurveModelName, CurveModel> = {
  lin2: {
    name: 'lin2',
    numParams: 2,
    formula: 'ρ1·z + ρ0',
    f: (z, p) => p[1]! * z + p[0]!,
    guess: (z, y) => {
      const s = summarize(z, y);
      const slope = (s.last - s.first) / Math.max(1e-9, z[z.length - 1]! - z[0]!);
      return [s.first - slope * z[0]!, slope];
    },
  },
  pow3: {
    name: 'pow3',
    numParams: 3,
    formula: 'ρ0 − ρ1·z^ρ2',
    f: (z, p) => p[0]! - p[1]! * z ** p[2]!,
    guess: (z, y) => {
      const s = summarize(z, y);
      return [s.last, s.last - s.first, -0.5];
    },
  },
  mmf4: {
    name: 'mmf4',
    numParams: 4,
    formula: '(ρ0·ρ1 + ρ2·z^ρ3) / (ρ1 + z^ρ3)',
    f: (z, p) => {
      const zp = z ** p[3]!;
      return (p[0]! * p[1]! + p[2]! * zp) / (p[1]! + zp);
    },
    guess: (z, y) => {
      const s = summarize(z, y);
      // ρ0: value at z → 0, ρ2: asymptote, ρ1 ≈ zHalf^ρ3 places the midpoint.
      const start = s.first - 0.5 * (s.last - s.first);
      return [0.5, 1, 2].map((e) => [start, Math.max(1, s.zHalf) ** e, s.last, e]);
    },
  },
  vapor3: {
    name: 'vapor3',
    numParams: 3,
    formula: 'ρ0 + ρ1/z + ρ2·ln z',
    f: (z, p) => p[0]! + p[1]! / z + p[2]! * Math.log(z),
    guess: (z, y) => [summarize(z, y).last, 0, 0],
  },
  logloglin2: {
    name: 'logloglin2',
    numParams: 2,
    formula: 'ln(ρ0·ln z + ρ1)',
    f: (z, p) => Math.log(p[0]! * Math.log(z) + p[1]!),
    guess: (z, y) => {
      const s = summarize(z, y);
      return [0.1, Math.exp(s.first)];
    },
  },
  hill3: {
    name: 'hill3',
    numParams: 3,
    formula: 'ρ0·z^ρ1 / (ρ2·ρ1 + z^ρ1)',
    f: (z, p) => {
      const zp = z ** p[1]!;
      return (p[0]! * zp) / (p[2]! * p[1]! + zp);
    },
    guess: (z, y) => [summarize(z, y).last, 1, 1],
  },
  logpow3: {
    name: 'logpow3',
    numParams: 3,
    formula: 'ρ0 / (1 + (z / e^ρ1)^ρ2)',
    f: (z, p) => p[0]! / (1 + (z / Math.exp(p[1]!)) ** p[2]!),
    guess: (z, y) => [summarize(z, y).last, 0, -1],
  },
  pow4: {
    name: 'pow4',
    numParams: 4,
    formula: 'ρ2 − (ρ0·z + ρ1)^(−ρ3)',
    f: (z, p) => p[2]! - (p[0]! * z + p[1]!) ** -p[3]!,
    guess: (z, y) => [1, 1, summarize(z, y).last, 0.5],
  },
  exp4: {
    name: 'exp4',
    numParams: 4,
    formula: 'ρ2 − exp(−ρ0·z^ρ3 + ρ1)',
    f: (z, p) => p[2]! - Math.exp(-p[0]! * z ** p[3]! + p[1]!),
    guess: (z, y) => {
      const s = summarize(z, y);
      return [0.5, Math.log(Math.max(1e-3, Math.abs(s.last - s.first))), s.last, 0.5];
    },
  },
  janoschek4: {
    name: 'janoschek4',
    numParams: 4,
    formula: 'ρ0 − (ρ0 − ρ1)·exp(−ρ2·z^ρ3)',
    f: (z, p) => p[0]! - (p[0]! - p[1]!) * Math.exp(-p[2]! * z ** p[3]!),
    guess: (z, y) => {
      const s = summarize(z, y);
      return [s.last, s.first, 0.5, 0.5];
    },
  },
  weibull4: {
    name: 'weibull4',
    numParams: 4,
    formula: 'ρ0 − (ρ0 − ρ1)·exp(−(ρ2·z)^ρ3)',
    f: (z, p) => p[0]! - (p[0]! - p[1]!) * Math.exp(-((p[2]! * z) ** p[3]!)),
    guess: (z, y) => {
      const s = summarize(z, y);
      return [s.last, s.first, 1 / s.zMid, 1];
    },
  },
  ilog2: {
    name: 'ilog2',
    numParams: 2,
    formula: 'ρ1 − ρ0 / ln(z + 1)',
    f: (z, p) => p[1]! - p[0]! / Math.log(z + 1),
    guess: (z, y) => {
      const s = summarize(z, y);
      return [(s.last - s.first) * Math.LN2, s.last];
    },
  },
  arctan3: {
    name: 'arctan3',
    numParams: 3,
    formula: '(2/π)·atan(ρ0·π·z/2 + ρ1) − ρ2',
    f: (z, p) => (2 / Math.PI) * Math.atan((p[0]! * Math.PI * z) / 2 + p[1]!) - p[2]!,
    guess: () => [0.1, 0, 0],
  },
};

export const CURVE_MODEL_NAMES = Object.keys(models) as CurveModelName[];

export function curveModel(name: CurveModelName): CurveModel | undefined {
  return Object.prototype.hasOwnProperty.call(models, name) ? models[name] : undefined;
}
