// Seeded random stream of the search (xoshiro128**, client/common/xoshiro.ts). Every random decision of the search
// goes through one of these, so a seed fixes the whole search.
import { Xoshiro128, splitmix32 } from '../common/xoshiro.js';

/** Mixes a seed and any number of integer keys into one 32-bit value (used to derive independent streams). */
export function mixSeed(seed: number, ...keys: number[]): number {
  let h = (seed >>> 0) ^ 0x5bd1e995;
  for (const k of [Math.floor(seed / 4294967296), ...keys]) {
    const [, v] = splitmix32((h ^ Math.imul((k >>> 0) + 0x7f4a7c15, 0x27d4eb2d)) | 0);
    h = (v ^ Math.imul(Math.floor(k / 4294967296) | 0, 0x165667b1)) >>> 0;
  }
  return h >>> 0;
}

export class Rng extends Xoshiro128 {
  private spareNormal: number | null = null;

  constructor(seed: number, ...keys: number[]) {
    super(mixSeed(seed, ...keys));
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.random() * 2 - 1;
      v = this.random() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return u * f;
  }

  exponential(scale = 1): number {
    return -Math.log(1 - this.random()) * scale;
  }

  /** A new independent stream derived from this one. */
  fork(): Rng {
    return new Rng(this.nextUint32(), this.nextUint32());
  }

  shuffle(a: Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}
