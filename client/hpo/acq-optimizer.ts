// Acquisition optimizers: a candidate sweep drawn from the prior (duplicates filtered) and a mixed-variable genetic
// algorithm seeded with the best candidates (DeepHyper's "mixedga", i.e. pymoo's MixedVariableGA: random parent pairs,
// SBX + polynomial mutation on numeric variables, uniform crossover + random reset on choices, repair onto the space,
// elitist survival, stop after 30 generations without progress). Works on encoded row-major typed arrays.
import type { EncodedColumn, HpProblem } from './problem.js';
import { Rng } from './rng.js';

/** A set of encoded rows with exact membership: open addressing on a hash of the float bits, rows kept flat. */
export class RowSet {
  private store: Float64Array;
  private count = 0;
  private table: Int32Array;
  private mask: number;
  private static readonly f64 = new Float64Array(1);
  private static readonly u32 = new Uint32Array(RowSet.f64.buffer);

  constructor(readonly d: number, capacity = 64) {
    this.store = new Float64Array(Math.max(1, capacity) * Math.max(1, d));
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  private hash(rows: Float64Array, off: number): number {
    let h = 0x811c9dc5;
    for (let j = 0; j < this.d; j++) {
      const v = rows[off + j]!;
      RowSet.f64[0] = v === 0 ? 0 : v; // -0 and 0 are the same value
      h = Math.imul(h ^ RowSet.u32[0]!, 0x01000193);
      h = Math.imul(h ^ RowSet.u32[1]!, 0x01000193);
    }
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** Slot holding the row, or the empty slot where it would go. */
  private slot(rows: Float64Array, off: number): number {
    let s = this.hash(rows, off) & this.mask;
    for (;;) {
      const k = this.table[s]!;
      if (k < 0 || this.equals(k, rows, off)) return s;
      s = (s + 1) & this.mask;
    }
  }

  has(rows: Float64Array, off = 0): boolean {
    return this.count > 0 && this.table[this.slot(rows, off)]! >= 0;
  }

  /** Adds the row; returns false when it was already there. */
  add(rows: Float64Array, off = 0): boolean {
    const s = this.slot(rows, off);
    if (this.table[s]! >= 0) return false;
    if ((this.count + 1) * this.d > this.store.length) {
      const grown = new Float64Array(Math.max(this.store.length * 2, (this.count + 1) * this.d));
      grown.set(this.store);
      this.store = grown;
    }
    this.store.set(rows.subarray(off, off + this.d), this.count * this.d);
    this.table[s] = this.count++;
    if (2 * this.count > this.table.length) this.rehash();
    return true;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    this.mask = this.table.length - 1;
    for (let k = 0; k < this.count; k++) {
      let s = this.hash(this.store, k * this.d) & this.mask;
      while (this.table[s]! >= 0) s = (s + 1) & this.mask;
      this.table[s] = k;
    }
  }

  private equals(k: number, rows: Float64Array, off: number): boolean {
    const s = k * this.d;
    for (let j = 0; j < this.d; j++) if (this.store[s + j] !== rows[off + j]) return false;
    return true;
  }
}

/**
 * Draws `n` candidates from the prior and drops duplicates (inside the batch and of `exclude`). If every candidate
 * is a duplicate, the unfiltered batch is returned, as DeepHyper does.
 */
export function sampleCandidates(problem: HpProblem, rng: Rng, n: number, exclude: { has(rows: Float64Array, off: number): boolean }): { rows: Float64Array; m: number } {
  const d = problem.size;
  const rows = problem.sampleEncoded(rng, n);
  const seen = new RowSet(d, n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    if (exclude.has(rows, off) || !seen.add(rows, off)) continue;
    if (m !== i) rows.copyWithin(m * d, off, off + d);
    m++;
  }
  if (m === 0) return { rows, m: n };
  return { rows: rows.subarray(0, m * d), m };
}

/** Index of the smallest value among the first m. */
export function argmin(values: Float64Array, m: number): number {
  let best = 0;
  for (let i = 1; i < m; i++) if (values[i]! < values[best]!) best = i;
  return best;
}

export interface GaOptions {
  popSize: number;
  maxGenerations: number;
  /** Stop when the best value improved by less than ftol for `period` generations in a row. */
  ftol: number;
  period: number;
}

export const GA_DEFAULTS: GaOptions = { popSize: 100, maxGenerations: 1000, ftol: 1e-6, period: 30 };

const SBX_ETA = 15;
const PM_ETA = 20;
/** pymoo's Crossover(prob=0.9): a mating skips crossover (its children copy the parents) with probability 0.1. */
const CROSSOVER_PROB = 0.9;

/**
 * Parent pairs as pymoo's RandomSelection draws them: consecutive entries of random permutations of the population,
 * so that in one generation every individual is a parent about equally often.
 */
export class ParentPairs {
  private perm = new Int32Array(0);
  private pos = 0;

  constructor(private readonly rng: Rng) {}

  /** Next pair of distinct indices in [0, size) (size >= 2). */
  next(size: number): [number, number] {
    const a = this.draw(size);
    let b = this.draw(size);
    // Only possible across two permutations: pymoo would then mate an individual with itself, which yields copies.
    while (b === a) b = this.draw(size);
    return [a, b];
  }

  private draw(size: number): number {
    if (this.perm.length !== size || this.pos >= size) {
      if (this.perm.length !== size) this.perm = new Int32Array(size);
      for (let i = 0; i < size; i++) this.perm[i] = i;
      this.rng.shuffle(this.perm);
      this.pos = 0;
    }
    return this.perm[this.pos++]!;
  }
}

/**
 * pymoo's RobustTermination(SingleObjectiveSpaceTermination(ftol), period): stop once the best value has stayed
 * within ftol of a reference for `period` generations in a row. The reference moves only on an improvement larger
 * than ftol, so many tiny improvements add up instead of each counting as a stall.
 */
export class StallTermination {
  private reference: number;
  private stalled = 0;

  constructor(initialBest: number, private readonly ftol: number, private readonly period: number) {
    this.reference = initialBest;
  }

  /** Records the best value after one generation; true when the GA should stop. */
  update(best: number): boolean {
    if (this.reference - best <= this.ftol) this.stalled++;
    else {
      this.stalled = 0;
      this.reference = best;
    }
    return this.stalled >= this.period;
  }
}

/**
 * Minimizes `evaluate` over the encoded space with a mixed-variable GA started from `initRows` (m rows with values
 * `initValues`). Returns the final population sorted best first, and how many generations ran.
 */
export function mixedGa(
  problem: HpProblem,
  evaluate: (rows: Float64Array, m: number, out: Float64Array) => void,
  initRows: Float64Array,
  initValues: Float64Array,
  m: number,
  rng: Rng,
  options: GaOptions = GA_DEFAULTS,
): { rows: Float64Array; values: Float64Array; size: number; generations: number } {
  const d = problem.size;
  const cols = problem.columns;
  const popSize = Math.min(options.popSize, m);
  // Start from the popSize best candidates.
  const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => initValues[a]! - initValues[b]!);
  let pop = new Float64Array(popSize * d);
  let fit = new Float64Array(popSize);
  for (let k = 0; k < popSize; k++) {
    pop.set(initRows.subarray(order[k]! * d, order[k]! * d + d), k * d);
    fit[k] = initValues[order[k]!]!;
  }
  let size = popSize;
  if (popSize < 2) return { rows: pop, values: fit, size, generations: 0 };

  const nNumeric = cols.filter((c) => c.kind === 'real' || c.kind === 'int').length;
  const nChoice = cols.filter((c) => c.kind === 'choice').length;
  const pNumeric = nNumeric > 0 ? Math.min(0.5, 1 / nNumeric) : 0;
  const pChoice = nChoice > 0 ? Math.min(0.5, 1 / nChoice) : 0;
  const constrained = problem.hasConstraints;

  const offspring = new Float64Array(popSize * d);
  const offFit = new Float64Array(popSize);
  const merged = new Float64Array(2 * popSize * d);
  const mergedFit = new Float64Array(2 * popSize);
  const active = new Uint8Array(d);
  const termination = new StallTermination(fit[0]!, options.ftol, options.period);
  let gen = 0;
  for (gen = 1; gen <= options.maxGenerations; gen++) {
    const known = new RowSet(d, 2 * popSize);
    for (let k = 0; k < size; k++) known.add(pop, k * d);
    let nOff = 0;
    const parents = new ParentPairs(rng);
    for (let attempt = 0; nOff < popSize && attempt < 3 * popSize; attempt += 2) {
      const [a, b] = parents.next(size);
      const o1 = nOff * d;
      const useSecond = nOff + 1 < popSize;
      const o2 = useSecond ? (nOff + 1) * d : -1;
      crossoverPair(cols, pop, a * d, b * d, offspring, o1, o2, d, rng);
      for (const o of useSecond ? [o1, o2] : [o1]) {
        mutate(cols, offspring, o, d, rng, pNumeric, pChoice);
        problem.canonicalize(offspring, o, active);
        if (constrained && !problem.isAllowed(offspring, o, active)) {
          // Repair by re-sampling from the prior (which honours the constraints), as DeepHyper's repair does.
          offspring.set(problem.sampleEncoded(rng, 1), o);
        }
        if (!known.add(offspring, o)) continue;
        if (o !== nOff * d) offspring.copyWithin(nOff * d, o, o + d);
        nOff++;
      }
    }
    if (nOff === 0) break;
    evaluate(offspring, nOff, offFit);
    // Elitist survival over parents and children.
    merged.set(pop.subarray(0, size * d), 0);
    merged.set(offspring.subarray(0, nOff * d), size * d);
    mergedFit.set(fit.subarray(0, size), 0);
    mergedFit.set(offFit.subarray(0, nOff), size);
    const total = size + nOff;
    const idx = Int32Array.from({ length: total }, (_, i) => i).sort((x, y) => mergedFit[x]! - mergedFit[y]! || x - y);
    const next = new Float64Array(popSize * d);
    const nextFit = new Float64Array(popSize);
    size = Math.min(popSize, total);
    for (let k = 0; k < size; k++) {
      next.set(merged.subarray(idx[k]! * d, idx[k]! * d + d), k * d);
      nextFit[k] = mergedFit[idx[k]!]!;
    }
    pop = next;
    fit = nextFit;
    if (termination.update(fit[0]!)) break;
  }
  return { rows: pop, values: fit, size, generations: Math.min(gen, options.maxGenerations) };
}

/**
 * Writes the two children of parents at `pa` and `pb` to `out` at o1 and o2 (o2 < 0: one child). As pymoo's
 * MixedVariableMating, each variable type is a separate crossover that happens with probability 0.9 per mating (reals
 * and integers: one draw each; every categorical its own draw); SBX then touches each numeric variable with
 * probability 0.5, and uniform crossover swaps a categorical with probability 0.5.
 */
export function crossoverPair(cols: readonly EncodedColumn[], pop: Float64Array, pa: number, pb: number, out: Float64Array, o1: number, o2: number, d: number, rng: Rng): void {
  const crossReal = rng.random() < CROSSOVER_PROB;
  const crossInt = rng.random() < CROSSOVER_PROB;
  for (let j = 0; j < d; j++) {
    const c = cols[j]!;
    let y1 = pop[pa + j]!;
    let y2 = pop[pb + j]!;
    if (c.kind === 'real' || c.kind === 'int') {
      if ((c.kind === 'real' ? crossReal : crossInt) && rng.random() < 0.5 && Math.abs(y1 - y2) > 1e-14) {
        const [c1, c2] = sbx(Math.min(y1, y2), Math.max(y1, y2), c.low, c.high, rng);
        y1 = c1;
        y2 = c2;
        if (rng.random() < 0.5) {
          const t = y1;
          y1 = y2;
          y2 = t;
        }
      }
    } else if (c.kind === 'choice') {
      if (rng.random() < CROSSOVER_PROB && rng.random() < 0.5) {
        const t = y1;
        y1 = y2;
        y2 = t;
      }
    }
    out[o1 + j] = y1;
    if (o2 >= 0) out[o2 + j] = y2;
  }
}

function sbx(y1: number, y2: number, lo: number, hi: number, rng: Rng): [number, number] {
  const u = rng.random();
  const delta = y2 - y1;
  const betaq = (beta: number) => {
    const alpha = 2 - Math.pow(beta, -(SBX_ETA + 1));
    return u <= 1 / alpha ? Math.pow(u * alpha, 1 / (SBX_ETA + 1)) : Math.pow(1 / (2 - u * alpha), 1 / (SBX_ETA + 1));
  };
  const c1 = 0.5 * (y1 + y2 - betaq(1 + (2 * (y1 - lo)) / delta) * delta);
  const c2 = 0.5 * (y1 + y2 + betaq(1 + (2 * (hi - y2)) / delta) * delta);
  return [Math.min(hi, Math.max(lo, c1)), Math.min(hi, Math.max(lo, c2))];
}

function mutate(cols: readonly EncodedColumn[], rows: Float64Array, o: number, d: number, rng: Rng, pNumeric: number, pChoice: number): void {
  if (rng.random() >= 0.9) return;
  for (let j = 0; j < d; j++) {
    const c = cols[j]!;
    if ((c.kind === 'real' || c.kind === 'int') && rng.random() < pNumeric) {
      const span = c.high - c.low;
      if (span <= 0) continue;
      const y = rows[o + j]!;
      const d1 = (y - c.low) / span;
      const d2 = (c.high - y) / span;
      const u = rng.random();
      const p = 1 / (PM_ETA + 1);
      let dq: number;
      if (u < 0.5) {
        const val = 2 * u + (1 - 2 * u) * Math.pow(1 - d1, PM_ETA + 1);
        dq = Math.pow(val, p) - 1;
      } else {
        const val = 2 * (1 - u) + 2 * (u - 0.5) * Math.pow(1 - d2, PM_ETA + 1);
        dq = 1 - Math.pow(val, p);
      }
      let v = y + dq * span;
      // Integer steps must move at least one unit, otherwise rounding undoes the mutation.
      if (c.kind === 'int' && Math.round(v) === y) v = y + (dq >= 0 ? 1 : -1);
      rows[o + j] = Math.min(c.high, Math.max(c.low, v));
    } else if (c.kind === 'choice' && rng.random() < pChoice) {
      rows[o + j] = c.values![rng.int(c.values!.length)]!;
    }
  }
}
