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
  /** f(z; ρ), writing ∂f/∂ρ_j into `out` (analytic: least squares and the Laplace proposal need it at every point). */
  grad(z: number, rho: ArrayLike<number>, out: Float64Array): number;
  /**
   * False when the curve has a pole (a denominator or log argument reaching 0) somewhere on [zMin, zMax]: such a
   * curve is not a learning curve, and its value past the pole says nothing. Families without poles omit it.
   */
  valid?(rho: ArrayLike<number>, zMin: number, zMax: number): boolean;
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

/** z^e for z > 0 (steps are positive): exp(e·ln z) is several times faster in V8 than the general `**`. */
function powZ(z: number, e: number): number {
  return Math.exp(e * Math.log(z));
}

const models: Record<CurveModelName, CurveModel> = {
  lin2: {
    name: 'lin2',
    numParams: 2,
    formula: 'ρ1·z + ρ0',
    f: (z, p) => p[1]! * z + p[0]!,
    grad: (z, p, g) => {
      g[0] = 1;
      g[1] = z;
      return p[1]! * z + p[0]!;
    },
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
    f: (z, p) => p[0]! - p[1]! * powZ(z, p[2]!),
    grad: (z, p, g) => {
      const w = powZ(z, p[2]!);
      g[0] = 1;
      g[1] = -w;
      g[2] = -p[1]! * w * Math.log(z);
      return p[0]! - p[1]! * w;
    },
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
      const zp = powZ(z, p[3]!);
      return (p[0]! * p[1]! + p[2]! * zp) / (p[1]! + zp);
    },
    grad: (z, p, g) => {
      const w = powZ(z, p[3]!);
      const d = p[1]! + w;
      const f = (p[0]! * p[1]! + p[2]! * w) / d;
      g[0] = p[1]! / d;
      g[1] = ((p[0]! - p[2]!) * w) / (d * d);
      g[2] = w / d;
      g[3] = ((p[2]! - p[0]!) * p[1]! * w * Math.log(z)) / (d * d);
      return f;
    },
    // z^ρ3 is monotone, so the denominator ρ1 + z^ρ3 keeps its sign on the range iff it has the same at both ends.
    valid: (p, zMin, zMax) => (p[1]! + powZ(zMin, p[3]!)) * (p[1]! + powZ(zMax, p[3]!)) > 0,
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
    grad: (z, p, g) => {
      const lz = Math.log(z);
      g[0] = 1;
      g[1] = 1 / z;
      g[2] = lz;
      return p[0]! + p[1]! / z + p[2]! * lz;
    },
    guess: (z, y) => [summarize(z, y).last, 0, 0],
  },
  logloglin2: {
    name: 'logloglin2',
    numParams: 2,
    formula: 'ln(ρ0·ln z + ρ1)',
    f: (z, p) => Math.log(p[0]! * Math.log(z) + p[1]!),
    grad: (z, p, g) => {
      const lz = Math.log(z);
      const v = p[0]! * lz + p[1]!;
      g[0] = lz / v;
      g[1] = 1 / v;
      return Math.log(v);
    },
    valid: (p, zMin, zMax) => p[0]! * Math.log(zMin) + p[1]! > 0 && p[0]! * Math.log(zMax) + p[1]! > 0,
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
      const zp = powZ(z, p[1]!);
      return (p[0]! * zp) / (p[2]! * p[1]! + zp);
    },
    grad: (z, p, g) => {
      const w = powZ(z, p[1]!);
      const d = p[2]! * p[1]! + w;
      g[0] = w / d;
      g[1] = (p[0]! * p[2]! * w * (p[1]! * Math.log(z) - 1)) / (d * d);
      g[2] = (-p[0]! * w * p[1]!) / (d * d);
      return (p[0]! * w) / d;
    },
    valid: (p, zMin, zMax) => (p[2]! * p[1]! + powZ(zMin, p[1]!)) * (p[2]! * p[1]! + powZ(zMax, p[1]!)) > 0,
    guess: (z, y) => [summarize(z, y).last, 1, 1],
  },
  logpow3: {
    name: 'logpow3',
    numParams: 3,
    formula: 'ρ0 / (1 + (z / e^ρ1)^ρ2)',
    f: (z, p) => p[0]! / (1 + Math.exp(p[2]! * (Math.log(z) - p[1]!))),
    grad: (z, p, g) => {
      const lzb = Math.log(z) - p[1]!;
      const u = Math.exp(p[2]! * lzb);
      const d = 1 + u;
      g[0] = 1 / d;
      g[1] = (p[0]! * p[2]! * u) / (d * d);
      g[2] = (-p[0]! * u * lzb) / (d * d);
      return p[0]! / d;
    },
    guess: (z, y) => [summarize(z, y).last, 0, -1],
  },
  pow4: {
    name: 'pow4',
    numParams: 4,
    formula: 'ρ2 − (ρ0·z + ρ1)^(−ρ3)',
    f: (z, p) => p[2]! - (p[0]! * z + p[1]!) ** -p[3]!,
    grad: (z, p, g) => {
      const v = p[0]! * z + p[1]!;
      const w = v ** -p[3]!;
      g[0] = (p[3]! * w * z) / v;
      g[1] = (p[3]! * w) / v;
      g[2] = 1;
      g[3] = w * Math.log(v);
      return p[2]! - w;
    },
    valid: (p, zMin, zMax) => p[0]! * zMin + p[1]! > 0 && p[0]! * zMax + p[1]! > 0,
    guess: (z, y) => [1, 1, summarize(z, y).last, 0.5],
  },
  exp4: {
    name: 'exp4',
    numParams: 4,
    formula: 'ρ2 − exp(−ρ0·z^ρ3 + ρ1)',
    f: (z, p) => p[2]! - Math.exp(-p[0]! * powZ(z, p[3]!) + p[1]!),
    grad: (z, p, g) => {
      const w = powZ(z, p[3]!);
      const e = Math.exp(-p[0]! * w + p[1]!);
      g[0] = e * w;
      g[1] = -e;
      g[2] = 1;
      g[3] = e * p[0]! * w * Math.log(z);
      return p[2]! - e;
    },
    guess: (z, y) => {
      const s = summarize(z, y);
      return [0.5, Math.log(Math.max(1e-3, Math.abs(s.last - s.first))), s.last, 0.5];
    },
  },
  janoschek4: {
    name: 'janoschek4',
    numParams: 4,
    formula: 'ρ0 − (ρ0 − ρ1)·exp(−ρ2·z^ρ3)',
    f: (z, p) => p[0]! - (p[0]! - p[1]!) * Math.exp(-p[2]! * powZ(z, p[3]!)),
    grad: (z, p, g) => {
      const w = powZ(z, p[3]!);
      const e = Math.exp(-p[2]! * w);
      const span = p[0]! - p[1]!;
      g[0] = 1 - e;
      g[1] = e;
      g[2] = span * e * w;
      g[3] = span * e * p[2]! * w * Math.log(z);
      return p[0]! - span * e;
    },
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
    grad: (z, p, g) => {
      const cz = p[2]! * z;
      const u = cz ** p[3]!;
      const e = Math.exp(-u);
      const span = p[0]! - p[1]!;
      g[0] = 1 - e;
      g[1] = e;
      g[2] = span * e * p[3]! * cz ** (p[3]! - 1) * z;
      g[3] = span * e * u * Math.log(cz);
      return p[0]! - span * e;
    },
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
    grad: (z, p, g) => {
      const l = Math.log(z + 1);
      g[0] = -1 / l;
      g[1] = 1;
      return p[1]! - p[0]! / l;
    },
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
    grad: (z, p, g) => {
      const t = (p[0]! * Math.PI * z) / 2 + p[1]!;
      const d = 1 + t * t;
      g[0] = z / d;
      g[1] = 2 / Math.PI / d;
      g[2] = -1;
      return (2 / Math.PI) * Math.atan(t) - p[2]!;
    },
    guess: () => [0.1, 0, 0],
  },
};

export const CURVE_MODEL_NAMES = Object.keys(models) as CurveModelName[];

export function curveModel(name: CurveModelName): CurveModel | undefined {
  return Object.prototype.hasOwnProperty.call(models, name) ? models[name] : undefined;
}
