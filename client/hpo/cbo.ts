// Centralized Bayesian optimization (DeepHyper's CBO): a tree-ensemble surrogate fitted on the history, an
// acquisition function with a periodically decaying exploration weight, optimized by a mixed-variable GA over a
// 10,000-point sweep; several points per ask by constant liar or qUCBd. Maximization by convention; internally
// targets are minimized (negated, outliers clipped, rescaled), as in DeepHyper.
import type { Config } from './types.js';
import type { Evaluator } from '../evaluator/evaluator.js';
import type { HpProblem } from './problem.js';
import { SearchBase, splitArgs, type BaseOptions } from './base.js';
import { Forest, EXTRA_TREES_DEFAULTS, RANDOM_FOREST_DEFAULTS, type ForestOptions, type Prediction } from './forest.js';
import { acquisition, scheduledKappa, scheduledXi, DEFAULT_SCHEDULER, ACQ_FUNCS, type AcqFunc, type AcqParams, type SchedulerOptions } from './acquisition.js';
import { argmin, mixedGa, RowSet, sampleCandidates, GA_DEFAULTS, type GaOptions } from './acq-optimizer.js';
import { clipOutliers, rescale, OBJECTIVE_SCALERS, type ObjectiveScaler } from './scaling.js';
import { randomSimplexWeights, scalarize, SCALARIZATIONS, type Scalarization } from './moo.js';
import { Rng } from './rng.js';
import { HpoError } from './errors.js';
import { LiarPool } from './liar-pool.js';

export type Surrogate = 'ET' | 'RF' | 'DUMMY';
export type AcqOptimizer = 'mixedga' | 'sampling';
export type MultiPointStrategy = 'cl_max' | 'cl_min' | 'cl_mean' | 'qUCBd';
export type FilterFailures = 'max' | 'min' | 'mean' | 'ignore';

export interface CBOOptions extends BaseOptions {
  /** 'ET' extremely randomized trees (default), 'RF' random forest, 'DUMMY' no model (random search). */
  surrogate?: Surrogate;
  /** Overrides of the forest's settings (trees, splitter, min impurity decrease, ...). */
  surrogateOptions?: Partial<ForestOptions>;
  /**
   * DeepHyper's surrogate scheduler: when the point told `patience + 1` steps ago is better than all `patience`
   * later ones, min_impurity_decrease is multiplied by `factor` for good. `false` turns it off.
   */
  surrogateScheduler?: { patience: number; factor: number } | false;
  /** 'UCBd' (default: mean + κ·epistemic std), 'UCB', 'EI', 'PI', or 'qUCBd' (UCBd with qUCBd batches). */
  acqFunc?: AcqFunc;
  kappa?: number;
  xi?: number;
  scheduler?: Partial<SchedulerOptions>;
  /** Random points before the first model (default 2·d + 1); failures do not count. */
  nInitialPoints?: number;
  /** Configurations to ask first. */
  initialPoints?: Config[];
  acqOptimizer?: AcqOptimizer;
  /** Size of the candidate sweep (default 10,000). */
  nPoints?: number;
  ga?: Partial<GaOptions>;
  multiPointStrategy?: MultiPointStrategy;
  /**
   * How failed evaluations enter the surrogate: 'max' (default) and 'min' give them the worst value seen (DeepHyper
   * maps both to its internal "max" of a minimized target), 'mean' the mean value, 'ignore' leaves them out.
   */
  filterFailures?: FilterFailures;
  /** Never suggest a point already asked or told (default true). */
  filterDuplicated?: boolean;
  objectiveScaler?: ObjectiveScaler;
  /** Objectives worse than q1 − factor·IQR are clipped before fitting (single objective; default 1.5). */
  outliersIqrFactor?: number;
  mooScalarization?: Scalarization;
  /** 'random' (default: new simplex weights for every suggested point), 'uniform', or fixed weights. */
  mooWeights?: 'random' | 'uniform' | number[];
  /** Objectives below these (maximization) bounds are penalized; null entries mean no bound. */
  mooLowerBounds?: Array<number | null>;
  /**
   * Above this many evaluations (default 2,000) the forest is refitted cheaply, keeping asks fast on long histories:
   * the tree structure is regrown only each time the history passes an anchor size (every 2^(⌊log2 n⌋−4)
   * evaluations, about 3 to 6% of the history), leaf values are recomputed from all current targets at every ask,
   * and constant lies update leaves instead of refitting.
   */
  fullRefitLimit?: number;
  /** Constant-liar batches run the GA for at most this many points of one ask (default 8); the others take the best candidate of the shared sweep. */
  maxGaRunsPerAsk?: number;
}

interface ResolvedOptions {
  surrogate: Surrogate;
  forest: ForestOptions;
  surrogateScheduler: { patience: number; factor: number } | false;
  acqFunc: 'UCBd' | 'UCB' | 'EI' | 'PI';
  kappa: number;
  xi: number;
  scheduler: SchedulerOptions;
  nInitialPoints: number;
  acqOptimizer: AcqOptimizer;
  nPoints: number;
  ga: GaOptions;
  multiPointStrategy: MultiPointStrategy;
  filterFailures: FilterFailures;
  filterDuplicated: boolean;
  objectiveScaler: ObjectiveScaler;
  outliersIqrFactor: number;
  mooScalarization: Scalarization;
  mooWeights: 'random' | 'uniform' | number[];
  mooLowerBounds: Array<number | null> | undefined;
  fullRefitLimit: number;
  maxGaRunsPerAsk: number;
}

interface Exclusion {
  has(rows: Float64Array, off: number): boolean;
}

export class CBO extends SearchBase {
  readonly options: Readonly<ResolvedOptions>;
  private readonly initialRows: Float64Array[];
  /** Minimization values in telling order (failures +∞), for the surrogate scheduler. */
  private readonly yiTrace: number[] = [];
  private impurityDecays = 0;
  /** impurityDecays after each told evaluation, so a prefix of the history has a known min_impurity_decrease. */
  private readonly decaysAt: number[] = [];
  /** Forest grown on a prefix (anchor) of the history, reused for cheap refits on long histories. */
  private anchored: { anchor: number; forest: Forest; routed: number; leafIds: Int32Array[] } | null = null;
  private lastGaGenerations = 0;

  constructor(problem: HpProblem, options?: CBOOptions);
  constructor(problem: HpProblem, evaluator: Evaluator, options?: CBOOptions);
  constructor(problem: HpProblem, a?: Evaluator | CBOOptions, b?: CBOOptions) {
    const { evaluator, options } = splitArgs<CBOOptions>(a, b);
    super(problem, evaluator, options);
    this.options = resolve(problem, options);
    this.initialRows = (options.initialPoints ?? []).map((c, k) => {
      try {
        problem.checkConfiguration(c);
        return problem.encode(c);
      } catch (err) {
        throw new HpoError('HPO_INVALID_OPTION', `initialPoints[${k}]: ${(err as Error).message}`, { cause: err });
      }
    });
  }

  /** Current min_impurity_decrease of the forest after the surrogate scheduler's decays. */
  get minImpurityDecrease(): number {
    const s = this.options.surrogateScheduler;
    return this.options.forest.minImpurityDecrease * (s ? Math.pow(s.factor, this.impurityDecays) : 1);
  }

  /** Generations run by the GA in the last model-based suggestion (diagnostics). */
  get gaGenerations(): number {
    return this.lastGaGenerations;
  }

  /** κ used for the point asked after `asked` others. */
  kappaAt(asked: number): number {
    return scheduledKappa(asked, this.options.kappa, this.options.scheduler, this.options.nInitialPoints);
  }

  protected override afterTell(i: number): void {
    const e = this.history[i]!;
    const failed = this.failedFlags[i] === 1;
    this.yiTrace.push(failed || typeof e.objective !== 'number' ? Infinity : -e.objective);
    const s = this.options.surrogateScheduler;
    const L = this.yiTrace.length;
    const delay = this.options.nInitialPoints;
    if (s && this.nObjectives <= 1 && L - delay > s.patience + 1) {
      let recent = Infinity;
      for (let k = L - s.patience; k < L; k++) recent = Math.min(recent, this.yiTrace[k]!);
      if (this.yiTrace[L - s.patience - 1]! < recent) this.impurityDecays++;
    }
    this.decaysAt.push(this.impurityDecays);
  }

  private minImpurityAfter(n: number): number {
    const s = this.options.surrogateScheduler;
    const decays = n > 0 ? this.decaysAt[n - 1]! : 0;
    return this.options.forest.minImpurityDecrease * (s ? Math.pow(s.factor, decays) : 1);
  }

  ask(n = 1): Config[] {
    if (!Number.isInteger(n) || n < 1) throw new HpoError('HPO_INVALID_OPTION', `ask(n) needs a positive integer, got ${n}`);
    const d = this.problem.size;
    const L = this.history.length;
    const asked0 = L + this.pending.length;
    // The stream depends only on the seed, the history length and what is pending: a fresh optimizer told the same
    // history asks the same points.
    const rng = new Rng(this.seed, L, this.pending.length, 0x0c0b);
    const picked = new RowSet(d, n);
    const pendingSet = new RowSet(d, this.pending.length + 1);
    for (const p of this.pending) pendingSet.add(p);
    const exclude: Exclusion = this.options.filterDuplicated
      ? { has: (r, o) => this.told.has(r, o) || pendingSet.has(r, o) || picked.has(r, o) }
      : { has: (r, o) => picked.has(r, o) };
    const out: Float64Array[] = [];
    const nSuccess = L - this.nFailed;
    const o = this.options;
    // As DeepHyper: the whole ask is random design until n_initial_points evaluations succeeded (lies do not count).
    const useModel = o.surrogate !== 'DUMMY' && nSuccess >= o.nInitialPoints && nSuccess > 0;
    const isMoo = this.nObjectives > 1;
    const gaEvery = Math.max(1, Math.ceil(n / o.maxGaRunsPerAsk));

    let model: ModelState | null = null;
    let qSweep: { rows: Float64Array; m: number; pred: Prediction } | null = null;
    let sweep: { rows: Float64Array; m: number } | null = null;
    let pool: LiarPool | null = null;
    let lie = 0;
    for (let j = 0; j < n; j++) {
      const asked = asked0 + j;
      let row: Float64Array;
      if (asked < this.initialRows.length && !exclude.has(this.initialRows[asked]!, 0)) {
        row = this.initialRows[asked]!.slice();
      } else if (!useModel) {
        row = this.randomRow(rng, exclude);
      } else if (o.multiPointStrategy === 'qUCBd' && model !== null) {
        // qUCBd: one κ ~ Exp(κ) per extra point, on one fresh sweep predicted by the last model; no refit.
        if (qSweep === null) {
          const s = sampleCandidates(this.problem, rng, o.nPoints, exclude);
          qSweep = { ...s, pred: model.forest.predict(s.rows, s.m) };
        }
        const kj = rng.exponential(o.kappa);
        const vals = acquisition(qSweep.pred, qSweep.m, { kind: 'UCBd', kappa: kj, xi: 0, yBest: 0 }, new Float64Array(qSweep.m));
        let best = -1;
        for (let k = 0; k < qSweep.m; k++) {
          if ((best < 0 || vals[k]! < vals[best]!) && !picked.has(qSweep.rows, k * d)) best = k;
        }
        row = best >= 0 ? qSweep.rows.slice(best * d, best * d + d) : this.randomRow(rng, exclude);
      } else if (model !== null && sweep !== null && !isMoo) {
        // Constant liar after the first point: the lie on the previous point updates the leaves it falls in (no
        // refit) and, through them, the predictions of the batch's shared sweep.
        if (pool === null) {
          pool = new LiarPool(model.forest, sweep.rows, sweep.m);
          lie = this.lieValue(model.baseTargets);
        }
        pool.lie(out[j - 1]!, lie);
        model.yBest = Math.min(model.yBest, lie);
        row = this.pickFromPool(model, pool, sweep, asked, rng, exclude, j % gaEvery === 0);
      } else {
        model = this.fitModel(rng, out, model);
        // Long histories (cheap liar mode): one candidate sweep serves the whole batch, picked points excluded.
        const reuse = L + j > o.fullRefitLimit;
        if (!reuse || sweep === null) sweep = sampleCandidates(this.problem, rng, o.nPoints, exclude);
        row = this.optimizeAcquisition(model, asked, rng, exclude, sweep, reuse && j > 0);
      }
      picked.add(row);
      out.push(row);
    }
    const configs = out.map((r) => this.problem.decode(r));
    this.markAsked(out, configs);
    return configs;
  }

  // ---- model -----------------------------------------------------------------------------------------------------

  /** Targets (minimized, preprocessed) of the history; failures per filterFailures, NaN where left out. */
  private targets(rng: Rng, upTo = this.history.length): Float64Array {
    const L = upTo;
    const o = this.options;
    const y = new Float64Array(L).fill(NaN);
    const ok: number[] = [];
    for (let i = 0; i < L; i++) if (!this.failedFlags[i]) ok.push(i);
    if (ok.length === 0) return y;
    if (this.nObjectives <= 1) {
      const v = Float64Array.from(ok, (i) => -(this.history[i]!.objective as number));
      clipOutliers(v, o.outliersIqrFactor);
      rescale(v, o.objectiveScaler);
      ok.forEach((i, k) => (y[i] = v[k]!));
    } else {
      const m = this.nObjectives;
      const cols: Float64Array[] = [];
      const penalty = new Float64Array(ok.length);
      for (let jo = 0; jo < m; jo++) {
        const raw = Float64Array.from(ok, (i) => -(this.history[i]!.objective as number[])[jo]!);
        const v = raw.slice();
        rescale(v, o.objectiveScaler);
        const lb = o.mooLowerBounds?.[jo];
        if (lb !== undefined && lb !== null) {
          const ub = scaledLike(raw, v, -lb);
          for (let k = 0; k < v.length; k++) penalty[k]! += 2 * Math.max(v[k]! - ub, 0);
        }
        cols.push(v);
      }
      const w =
        o.mooWeights === 'random'
          ? randomSimplexWeights(m, rng)
          : o.mooWeights === 'uniform'
            ? new Float64Array(m).fill(1 / m)
            : Float64Array.from(o.mooWeights);
      const vec = new Float64Array(m);
      ok.forEach((i, k) => {
        for (let jo = 0; jo < m; jo++) vec[jo] = cols[jo]![k]! + penalty[k]!;
        y[i] = scalarize(o.mooScalarization, vec, w);
      });
    }
    if (o.filterFailures !== 'ignore' && this.nFailed > 0) {
      let worst = -Infinity;
      let sum = 0;
      for (const i of ok) {
        worst = Math.max(worst, y[i]!);
        sum += y[i]!;
      }
      const fill = o.filterFailures === 'mean' ? sum / ok.length : worst;
      for (let i = 0; i < L; i++) if (this.failedFlags[i]) y[i] = fill;
    }
    return y;
  }

  /**
   * Fits the surrogate on the history plus the points picked so far in this ask with their constant lie.
   * Beyond `fullRefitLimit` a lie only updates the leaves of the previous model.
   */
  private fitModel(rng: Rng, picked: Float64Array[], previous: ModelState | null): ModelState {
    const o = this.options;
    const d = this.problem.size;
    const L = this.history.length;
    const isMoo = this.nObjectives > 1;
    const base = previous !== null && !isMoo ? previous.baseTargets : this.targets(rng);
    if (picked.length === 0 && L > o.fullRefitLimit) return this.anchoredModel(base);
    let yBest = Infinity;
    for (let i = 0; i < L; i++) if (!this.failedFlags[i] && base[i]! < yBest) yBest = base[i]!;
    const lie = this.lieValue(base);
    // Assemble the training set column-major: history rows kept, then lies.
    const keep: number[] = [];
    for (let i = 0; i < L; i++) if (!Number.isNaN(base[i]!)) keep.push(i);
    const N = keep.length + picked.length;
    const xCols = new Float64Array(N * d);
    const y = new Float64Array(N);
    const rows = this.historyRows;
    for (let k = 0; k < keep.length; k++) {
      const off = keep[k]! * d;
      for (let j = 0; j < d; j++) xCols[j * N + k] = rows[off + j]!;
      y[k] = base[keep[k]!]!;
    }
    for (let p = 0; p < picked.length; p++) {
      const k = keep.length + p;
      for (let j = 0; j < d; j++) xCols[j * N + k] = picked[p]![j]!;
      y[k] = lie;
    }
    if (picked.length > 0) yBest = Math.min(yBest, lie);
    const forest = new Forest({ ...o.forest, minImpurityDecrease: this.minImpurityDecrease });
    forest.fit(xCols, N, d, y, rng.fork());
    return { forest, baseTargets: base, yBest };
  }

  /** The constant lie (minimized target): the best value for cl_max, the worst for cl_min, the mean for cl_mean. */
  private lieValue(base: Float64Array): number {
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let cnt = 0;
    for (let i = 0; i < this.history.length; i++) {
      if (this.failedFlags[i] || Number.isNaN(base[i]!)) continue;
      sum += base[i]!;
      lo = Math.min(lo, base[i]!);
      hi = Math.max(hi, base[i]!);
      cnt++;
    }
    const s = this.options.multiPointStrategy;
    return s === 'cl_min' ? hi : s === 'cl_mean' ? sum / cnt : lo;
  }

  /**
   * Next constant-liar point from the shared sweep's updated predictions: the GA seeded with them when `runGa`,
   * otherwise the best candidate not picked yet.
   */
  private pickFromPool(model: ModelState, pool: LiarPool, sweep: { rows: Float64Array; m: number }, asked: number, rng: Rng, exclude: Exclusion, runGa: boolean): Float64Array {
    const d = this.problem.size;
    const values = acquisition(pool.prediction(), pool.m, this.acqParams(asked, model.yBest), new Float64Array(pool.m));
    // Marked once, so picked candidates (whose lies made them look better) cost no extra scans.
    for (let k = 0; k < pool.m; k++) if (pool.taken[k]) values[k] = Infinity;
    if (runGa && this.options.acqOptimizer === 'mixedga') return this.optimizeAcquisition(model, asked, rng, exclude, sweep, true, values);
    this.lastGaGenerations = 0;
    for (;;) {
      const k = argmin(values, pool.m);
      if (values[k] === Infinity) return this.randomRow(rng, exclude);
      pool.taken[k] = 1;
      if (!exclude.has(sweep.rows, k * d)) return sweep.rows.slice(k * d, k * d + d);
      values[k] = Infinity;
    }
  }

  private acqParams(asked: number, yBest: number): AcqParams {
    const o = this.options;
    return {
      kind: o.acqFunc,
      kappa: scheduledKappa(asked, o.kappa, o.scheduler, o.nInitialPoints),
      xi: scheduledXi(asked, o.xi, o.scheduler, o.nInitialPoints),
      yBest,
    };
  }

  /** Cheap refit: the structure grown on the anchor prefix, leaves refreshed with the current targets. */
  private anchoredModel(base: Float64Array): ModelState {
    const d = this.problem.size;
    const L = this.history.length;
    const step = 2 ** Math.max(0, Math.floor(Math.log2(L)) - 4);
    const anchor = Math.floor(L / step) * step;
    let a = this.anchored;
    if (a === null || a.anchor !== anchor) {
      // Everything about the anchor forest derives from the seed and the first `anchor` evaluations.
      const rng = new Rng(this.seed, anchor, 0xa7c4);
      const y = this.targets(rng, anchor);
      const keep: number[] = [];
      for (let i = 0; i < anchor; i++) if (!Number.isNaN(y[i]!)) keep.push(i);
      const N = keep.length;
      const xCols = new Float64Array(N * d);
      const yy = new Float64Array(N);
      keep.forEach((i, k) => {
        for (let j = 0; j < d; j++) xCols[j * N + k] = this.historyRows[i * d + j]!;
        yy[k] = y[i]!;
      });
      const forest = new Forest({ ...this.options.forest, minImpurityDecrease: this.minImpurityAfter(anchor) });
      forest.fit(xCols, N, d, yy, rng.fork());
      a = { anchor, forest, routed: 0, leafIds: forest.fittedTrees.map(() => new Int32Array(Math.max(16, 2 * L))) };
      this.anchored = a;
    }
    if (a.leafIds[0]!.length < L) a.leafIds = a.leafIds.map((ids) => {
      const grown = new Int32Array(2 * L);
      grown.set(ids);
      return grown;
    });
    a.forest.route(this.historyRows, a.routed, L, a.leafIds);
    a.routed = L;
    a.forest.setLeafStats(a.leafIds, base, L);
    let yBest = Infinity;
    for (let i = 0; i < L; i++) if (!this.failedFlags[i] && base[i]! < yBest) yBest = base[i]!;
    return { forest: a.forest, baseTargets: base, yBest };
  }

  /** `given`: acquisition values of the sweep already computed (constant-liar batches), else predicted here. */
  private optimizeAcquisition(model: ModelState, asked: number, rng: Rng, exclude: Exclusion, sweep: { rows: Float64Array; m: number }, shared: boolean, given?: Float64Array): Float64Array {
    const o = this.options;
    const d = this.problem.size;
    const delay = o.nInitialPoints;
    const params: AcqParams = {
      kind: o.acqFunc,
      kappa: scheduledKappa(asked, o.kappa, o.scheduler, delay),
      xi: scheduledXi(asked, o.xi, o.scheduler, delay),
      yBest: model.yBest,
    };
    const { rows, m } = sweep;
    const values = given ?? acquisition(model.forest.predict(rows, m), m, params, new Float64Array(m));
    // Points already picked in this batch (when the sweep is shared) must not win again.
    if (shared) for (let k = 0; k < m; k++) if (exclude.has(rows, k * d)) values[k] = Infinity;
    this.lastGaGenerations = 0;
    if (o.acqOptimizer === 'sampling') {
      const k = argmin(values, m);
      return rows.slice(k * d, k * d + d);
    }
    const scratch: Prediction = { mean: new Float64Array(o.ga.popSize), epistemicVar: new Float64Array(o.ga.popSize), aleatoricVar: new Float64Array(o.ga.popSize) };
    const evaluate = (r: Float64Array, count: number, out: Float64Array) => {
      model.forest.predict(r, count, scratch);
      acquisition(scratch, count, params, out);
    };
    const ga = mixedGa(this.problem, evaluate, rows, values, m, rng, o.ga);
    this.lastGaGenerations = ga.generations;
    for (let k = 0; k < ga.size; k++) {
      if (!exclude.has(ga.rows, k * d)) return ga.rows.slice(k * d, k * d + d);
    }
    const k = argmin(values, m);
    return rows.slice(k * d, k * d + d);
  }

  /** A prior sample that is not a duplicate (100 tries, then any sample). */
  private randomRow(rng: Rng, exclude: Exclusion): Float64Array {
    let row = this.problem.sampleEncoded(rng, 1);
    for (let t = 0; t < 100 && exclude.has(row, 0); t++) row = this.problem.sampleEncoded(rng, 1);
    return row;
  }
}

interface ModelState {
  forest: Forest;
  baseTargets: Float64Array;
  yBest: number;
}

/** Where `value` (raw) lands under the scaling that mapped `raw` to `scaled` (monotone interpolation). */
function scaledLike(raw: Float64Array, scaled: Float64Array, value: number): number {
  let lo = 0;
  let hi = 0;
  for (let k = 1; k < raw.length; k++) {
    if (raw[k]! < raw[lo]!) lo = k;
    if (raw[k]! > raw[hi]!) hi = k;
  }
  const span = raw[hi]! - raw[lo]!;
  if (span <= 0) return value > raw[lo]! ? Infinity : value < raw[lo]! ? -Infinity : scaled[lo]!;
  // Linear map through the extremes: exact for minmax, a monotone stand-in for the other scalers.
  return scaled[lo]! + ((value - raw[lo]!) / span) * (scaled[hi]! - scaled[lo]!);
}

function resolve(problem: HpProblem, o: CBOOptions): ResolvedOptions {
  const bad = (field: string, v: unknown, expected: string) =>
    new HpoError('HPO_INVALID_OPTION', `CBO option ${field}: got ${JSON.stringify(v)}, expected ${expected}`);
  const surrogate = o.surrogate ?? 'ET';
  if (!['ET', 'RF', 'DUMMY'].includes(surrogate)) throw bad('surrogate', surrogate, `'ET', 'RF' or 'DUMMY'`);
  const acq = o.acqFunc ?? 'UCBd';
  if (!ACQ_FUNCS.includes(acq)) throw bad('acqFunc', acq, ACQ_FUNCS.join(', '));
  const strategy = o.multiPointStrategy ?? (acq === 'qUCBd' ? 'qUCBd' : 'cl_max');
  if (!['cl_max', 'cl_min', 'cl_mean', 'qUCBd'].includes(strategy)) throw bad('multiPointStrategy', strategy, `'cl_max', 'cl_min', 'cl_mean' or 'qUCBd'`);
  const acqOptimizer = o.acqOptimizer ?? 'mixedga';
  if (!['mixedga', 'sampling'].includes(acqOptimizer)) throw bad('acqOptimizer', acqOptimizer, `'mixedga' or 'sampling'`);
  const filterFailures = o.filterFailures ?? 'max';
  if (!['max', 'min', 'mean', 'ignore'].includes(filterFailures)) throw bad('filterFailures', filterFailures, `'max', 'min', 'mean' or 'ignore'`);
  const objectiveScaler = o.objectiveScaler ?? 'minmax';
  if (!OBJECTIVE_SCALERS.includes(objectiveScaler)) throw bad('objectiveScaler', objectiveScaler, OBJECTIVE_SCALERS.join(', '));
  const mooScalarization = o.mooScalarization ?? 'Chebyshev';
  if (!SCALARIZATIONS.includes(mooScalarization)) throw bad('mooScalarization', mooScalarization, SCALARIZATIONS.join(', '));
  const mooWeights = o.mooWeights ?? 'random';
  if (Array.isArray(mooWeights) ? !mooWeights.every((w) => Number.isFinite(w) && w >= 0) : !['random', 'uniform'].includes(mooWeights))
    throw bad('mooWeights', mooWeights, `'random', 'uniform' or a list of non-negative numbers`);
  const kappa = o.kappa ?? 1.96;
  if (!(kappa >= 0)) throw bad('kappa', kappa, 'a number >= 0');
  const xi = o.xi ?? 0.1;
  if (!(xi >= 0)) throw bad('xi', xi, 'a number >= 0');
  const scheduler = { ...DEFAULT_SCHEDULER, ...(o.scheduler ?? {}) };
  if (!(scheduler.period >= 1) || !(scheduler.kappaFinal > 0) || !(scheduler.xiFinal > 0)) throw bad('scheduler', scheduler, 'period >= 1, kappaFinal > 0, xiFinal > 0');
  const nInitialPoints = o.nInitialPoints ?? 2 * problem.size + 1;
  if (!Number.isInteger(nInitialPoints) || nInitialPoints < 0) throw bad('nInitialPoints', nInitialPoints, 'an integer >= 0');
  const nPoints = o.nPoints ?? 10_000;
  if (!Number.isInteger(nPoints) || nPoints < 1) throw bad('nPoints', nPoints, 'a positive integer');
  const forest: ForestOptions = { ...(surrogate === 'RF' ? RANDOM_FOREST_DEFAULTS : EXTRA_TREES_DEFAULTS), ...(o.surrogateOptions ?? {}) };
  if (!Number.isInteger(forest.nEstimators) || forest.nEstimators < 1) throw bad('surrogateOptions.nEstimators', forest.nEstimators, 'a positive integer');
  const ga = { ...GA_DEFAULTS, ...(o.ga ?? {}) };
  if (!Number.isInteger(ga.popSize) || ga.popSize < 2) throw bad('ga.popSize', ga.popSize, 'an integer >= 2');
  const maxGaRunsPerAsk = o.maxGaRunsPerAsk ?? 8;
  if (!Number.isInteger(maxGaRunsPerAsk) || maxGaRunsPerAsk < 1) throw bad('maxGaRunsPerAsk', maxGaRunsPerAsk, 'an integer >= 1');
  if (o.fullRefitLimit !== undefined && !(o.fullRefitLimit >= 0)) throw bad('fullRefitLimit', o.fullRefitLimit, 'a number >= 0');
  return {
    surrogate,
    forest,
    surrogateScheduler: o.surrogateScheduler === undefined ? { patience: 10, factor: 0.2 } : o.surrogateScheduler,
    acqFunc: acq === 'qUCBd' ? 'UCBd' : acq,
    kappa,
    xi,
    scheduler,
    nInitialPoints,
    acqOptimizer,
    nPoints,
    ga,
    multiPointStrategy: strategy,
    maxGaRunsPerAsk,
    filterFailures,
    filterDuplicated: o.filterDuplicated ?? true,
    objectiveScaler,
    outliersIqrFactor: o.outliersIqrFactor ?? 1.5,
    mooScalarization,
    mooWeights,
    mooLowerBounds: o.mooLowerBounds,
    fullRefitLimit: o.fullRefitLimit ?? 2000,
  };
}
