// Target preprocessing before each surrogate fit, as DeepHyper does it (in its internal minimization space):
// clip very bad outliers (IQR rule) and rescale. Pure functions over typed arrays.

export type ObjectiveScaler = 'minmax' | 'log' | 'quantile-uniform' | 'minmaxlog' | 'identity';
export const OBJECTIVE_SCALERS: readonly ObjectiveScaler[] = ['minmax', 'log', 'quantile-uniform', 'minmaxlog', 'identity'];

/** q-quantile with linear interpolation (numpy's default) of the first `n` values of a sorted array. */
export function quantileSorted(sorted: Float64Array, n: number, q: number): number {
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Clips values above q3 + factor·(q3 − q1) down to that threshold, in place (minimization: large = bad).
 * Returns the threshold.
 */
export function clipOutliers(values: Float64Array, factor = 1.5): number {
  const n = values.length;
  if (n < 2) return Infinity;
  const sorted = Float64Array.from(values).sort();
  const q1 = quantileSorted(sorted, n, 0.25);
  const q3 = quantileSorted(sorted, n, 0.75);
  const threshold = q3 + factor * (q3 - q1);
  for (let i = 0; i < n; i++) if (values[i]! > threshold) values[i] = threshold;
  return threshold;
}

/** Rescales values in place with the given scaler (fitted on these same values). */
export function rescale(values: Float64Array, scaler: ObjectiveScaler): void {
  const n = values.length;
  if (n === 0 || scaler === 'identity') return;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  switch (scaler) {
    case 'minmax':
    case 'minmaxlog': {
      // scikit-learn's MinMaxScaler maps a constant column to 0.
      const span = hi - lo;
      for (let i = 0; i < n; i++) values[i] = span > 0 ? (values[i]! - lo) / span : 0;
      if (scaler === 'minmaxlog') for (let i = 0; i < n; i++) values[i] = Math.log(values[i]! + 1e-12);
      return;
    }
    case 'log':
      for (let i = 0; i < n; i++) values[i] = Math.log(values[i]! - lo + 1);
      return;
    case 'quantile-uniform': {
      // Empirical CDF: the rank of each value, ties sharing their mean rank, mapped onto [0, 1].
      if (n === 1) {
        values[0] = 0;
        return;
      }
      const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
      const ranks = new Float64Array(n);
      for (let k = 0; k < n; ) {
        let e = k;
        while (e + 1 < n && values[order[e + 1]!] === values[order[k]!]) e++;
        const r = (k + e) / 2 / (n - 1);
        for (let t = k; t <= e; t++) ranks[order[t]!] = r;
        k = e + 1;
      }
      values.set(ranks);
      return;
    }
  }
}
