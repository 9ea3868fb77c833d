import { Xoshiro128 } from '../common/xoshiro.js';

// Seeded pseudo-random stream (xoshiro128**, client/common/xoshiro.ts) so that data sets, weight
// initialisation, shuffling and dropout are reproducible bit for bit from one integer seed.

export class SeededRandom extends Xoshiro128 {
  // A plain double plus a flag (not number | null): V8 then stores it unboxed, so drawing normals allocates nothing.
  private spareNormal = 0;
  private hasSpare = false;

  constructor(seed: number) {
    super(Math.floor(seed));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, the second value is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spareNormal;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: number } | unknown[]>(array: T): T {
    const a = array as unknown as unknown[];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return array;
  }

  /** A fresh integer seed derived from this stream (for child streams). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32() | 0);
  }
}
