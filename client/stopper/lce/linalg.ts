// Tiny dense linear algebra for p×p systems (p ≤ 4 here): row-major Float64Arrays.

/** Cholesky factor L (lower, row-major) of a symmetric positive-definite matrix, or null if it is not. */
export function cholesky(a: Float64Array, p: number): Float64Array | null {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j]!;
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!;
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return null;
        l[i * p + i] = Math.sqrt(s);
      } else {
        l[i * p + j] = s / l[j * p + j]!;
      }
    }
  }
  return l;
}

/** Solve L Lᵀ x = b given the Cholesky factor L. */
export function choleskySolve(l: Float64Array, p: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * y[k]!;
    y[i] = s / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!;
    x[i] = s / l[i * p + i]!;
  }
  return x;
}

/** Cholesky factor of a matrix made SPD by adding growing jitter to its diagonal. */
export function choleskyWithJitter(a: Float64Array, p: number): Float64Array {
  let scale = 0;
  for (let i = 0; i < p; i++) scale = Math.max(scale, Math.abs(a[i * p + i]!));
  let jitter = 0;
  for (let attempt = 0; attempt < 30; attempt++) {
    const m = Float64Array.from(a);
    for (let i = 0; i < p; i++) m[i * p + i]! += jitter;
    const l = cholesky(m, p);
    if (l) return l;
    jitter = jitter === 0 ? Math.max(1e-12, scale * 1e-10) : jitter * 10;
  }
  const identity = new Float64Array(p * p);
  for (let i = 0; i < p; i++) identity[i * p + i] = 1;
  return identity;
}
