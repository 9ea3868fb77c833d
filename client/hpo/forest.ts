// Tree ensembles used as surrogate models: extremely randomized trees (DeepHyper's default "ET") and random forests
// ("RF"). Trees live in flat typed arrays (no node objects); training data is column-major so a split scans one
// contiguous column. Predictions decompose the variance (law of total variance, as DeepHyper's forest does):
// mean = mean of tree means, epistemic variance = variance of tree means, aleatoric variance = mean of leaf variances.
import { Rng } from './rng.js';

export interface ForestOptions {
  nEstimators: number;
  /** 'random': one uniform threshold per feature (extra-trees); 'best': exhaustive best threshold. */
  splitter: 'random' | 'best';
  /** Features tried per split: a fraction of d (1.0 = all) or 'sqrt'. */
  maxFeatures: number | 'sqrt';
  bootstrap: boolean;
  /** Fraction of the data drawn (with replacement) per tree when bootstrapping. */
  maxSamples: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Weighted impurity decrease (N_t/N · Δimpurity) a split must reach, as scikit-learn defines it. */
  minImpurityDecrease: number;
}

/** DeepHyper's "ET" surrogate. */
export const EXTRA_TREES_DEFAULTS: ForestOptions = {
  nEstimators: 10,
  splitter: 'random',
  maxFeatures: 1.0,
  bootstrap: false,
  maxSamples: 1.0,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  minImpurityDecrease: 0.005,
};

/** DeepHyper's "RF" surrogate. */
export const RANDOM_FOREST_DEFAULTS: ForestOptions = {
  nEstimators: 10,
  splitter: 'best',
  maxFeatures: 'sqrt',
  bootstrap: true,
  maxSamples: 0.8,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  minImpurityDecrease: 0.005,
};

const EPSILON = 2.220446049250313e-16;
const FEATURE_THRESHOLD = 1e-7;

/** One fitted tree. Internal nodes have feature >= 0; leaves have feature = -1 and carry mean, variance, count. */
export interface Tree {
  nodeCount: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  variance: Float64Array;
  count: Int32Array;
}

export interface Prediction {
  mean: Float64Array;
  epistemicVar: Float64Array;
  aleatoricVar: Float64Array;
}

export class Forest {
  readonly options: ForestOptions;
  private trees: Tree[] = [];
  private d = 0;

  constructor(options: Partial<ForestOptions> = {}) {
    this.options = { ...EXTRA_TREES_DEFAULTS, ...options };
  }

  get fittedTrees(): readonly Tree[] {
    return this.trees;
  }

  /**
   * Fits the ensemble. `xCols` is column-major (feature j of sample i at j·n + i), `y` holds n targets.
   */
  fit(xCols: Float64Array, n: number, d: number, y: Float64Array, rng: Rng): this {
    const o = this.options;
    this.d = d;
    this.trees = [];
    const builder = new TreeBuilder(xCols, n, d, y, o);
    const drawn = o.bootstrap ? Math.max(1, Math.round(o.maxSamples * n)) : n;
    const idx = new Int32Array(drawn);
    for (let t = 0; t < o.nEstimators; t++) {
      const trng = rng.fork();
      if (o.bootstrap) for (let k = 0; k < drawn; k++) idx[k] = trng.int(n);
      else for (let k = 0; k < n; k++) idx[k] = k;
      this.trees.push(builder.build(idx, trng));
    }
    return this;
  }

  /** Predicts m rows given row-major (row i at i·d). Reuses `out` when given. */
  predict(xRows: Float64Array, m: number, out?: Prediction): Prediction {
    const d = this.d;
    const res = out ?? { mean: new Float64Array(m), epistemicVar: new Float64Array(m), aleatoricVar: new Float64Array(m) };
    const T = this.trees.length;
    const { mean, epistemicVar, aleatoricVar } = res;
    mean.fill(0, 0, m);
    epistemicVar.fill(0, 0, m);
    aleatoricVar.fill(0, 0, m);
    for (const tree of this.trees) {
      const { feature, threshold, left, right, value, variance } = tree;
      for (let i = 0; i < m; i++) {
        const off = i * d;
        let node = 0;
        let f = feature[0]!;
        while (f >= 0) {
          node = xRows[off + f]! <= threshold[node]! ? left[node]! : right[node]!;
          f = feature[node]!;
        }
        const mu = value[node]!;
        mean[i]! += mu;
        epistemicVar[i]! += mu * mu;
        aleatoricVar[i]! += variance[node]!;
      }
    }
    for (let i = 0; i < m; i++) {
      const mu = mean[i]! / T;
      mean[i] = mu;
      epistemicVar[i] = Math.max(0, epistemicVar[i]! / T - mu * mu);
      aleatoricVar[i] = aleatoricVar[i]! / T;
    }
    return res;
  }

  /** Writes, for each tree t, the leaf reached by row r (of row-major `rows`, rows from..to-1) into leafIds[t][r]. */
  route(rows: Float64Array, from: number, to: number, leafIds: Int32Array[]): void {
    const d = this.d;
    this.trees.forEach((tree, t) => {
      const out = leafIds[t]!;
      for (let r = from; r < to; r++) {
        let node = 0;
        while (tree.feature[node]! >= 0) node = rows[r * d + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
        out[r] = node;
      }
    });
  }

  /**
   * Recomputes every leaf's mean, variance and count from targets y[0..n-1] and their leaves (rows with a NaN
   * target are skipped). Keeps the tree structure: used to refresh a forest whose structure is reused.
   */
  setLeafStats(leafIds: Int32Array[], y: Float64Array, n: number): void {
    this.trees.forEach((tree, t) => {
      const ids = leafIds[t]!;
      const sum = new Float64Array(tree.nodeCount);
      const sq = new Float64Array(tree.nodeCount);
      const cnt = new Int32Array(tree.nodeCount);
      for (let i = 0; i < n; i++) {
        const v = y[i]!;
        if (Number.isNaN(v)) continue;
        const leaf = ids[i]!;
        sum[leaf]! += v;
        sq[leaf]! += v * v;
        cnt[leaf]!++;
      }
      for (let node = 0; node < tree.nodeCount; node++) {
        if (tree.feature[node]! >= 0 || cnt[node] === 0) continue;
        const mu = sum[node]! / cnt[node]!;
        tree.value[node] = mu;
        tree.variance[node] = Math.max(0, sq[node]! / cnt[node]! - mu * mu);
        tree.count[node] = cnt[node]!;
      }
    });
  }

  /**
   * Adds one observation to the leaf it falls in, in every tree, without re-splitting: a cheap update used for
   * the constant liar. `onLeaf` learns each updated leaf with its previous mean and variance.
   */
  insert(x: Float64Array, offset: number, y: number, onLeaf?: (tree: number, leaf: number, oldMean: number, oldVariance: number) => void): void {
    for (let t = 0; t < this.trees.length; t++) {
      const tree = this.trees[t]!;
      let node = 0;
      while (tree.feature[node]! >= 0) node = x[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      const c = tree.count[node]!;
      const mu = tree.value[node]!;
      const second = (tree.variance[node]! + mu * mu) * c + y * y;
      const mu2 = mu + (y - mu) / (c + 1);
      tree.count[node] = c + 1;
      tree.value[node] = mu2;
      const oldVariance = tree.variance[node]!;
      tree.variance[node] = Math.max(0, second / (c + 1) - mu2 * mu2);
      onLeaf?.(t, node, mu, oldVariance);
    }
  }
}

/** Grows trees with a shared workspace; one builder per fit. */
class TreeBuilder {
  private readonly tmpVals: Float64Array;
  private readonly tmpOrder: Int32Array;
  /** Targets and one feature of the current node, gathered contiguously for the split scans. */
  private readonly nodeY: Float64Array;
  private readonly nodeX: Float64Array;
  private readonly features: Int32Array;
  private readonly maxFeatures: number;

  constructor(
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly d: number,
    private readonly y: Float64Array,
    private readonly o: ForestOptions,
  ) {
    const cap = Math.max(n, Math.round(o.maxSamples * n)) + 1;
    this.tmpVals = new Float64Array(cap);
    this.tmpOrder = new Int32Array(cap);
    this.nodeY = new Float64Array(cap);
    this.nodeX = new Float64Array(cap);
    this.features = new Int32Array(d);
    this.maxFeatures =
      o.maxFeatures === 'sqrt' ? Math.max(1, Math.floor(Math.sqrt(d))) : Math.max(1, Math.min(d, Math.round(o.maxFeatures * d)));
  }

  build(idx: Int32Array, rng: Rng): Tree {
    const total = idx.length;
    const cap = 2 * total + 1;
    const tree: Tree = {
      nodeCount: 0,
      feature: new Int32Array(cap),
      threshold: new Float64Array(cap),
      left: new Int32Array(cap),
      right: new Int32Array(cap),
      value: new Float64Array(cap),
      variance: new Float64Array(cap),
      count: new Int32Array(cap),
    };
    const { x, y, n, o } = this;
    // Explicit stack of (node id, start, end).
    const stack: number[] = [0, 0, total];
    tree.nodeCount = 1;
    while (stack.length > 0) {
      const end = stack.pop()!;
      const start = stack.pop()!;
      const node = stack.pop()!;
      const cnt = end - start;
      let s = 0;
      let ss = 0;
      const ny = this.nodeY;
      const nx = this.nodeX;
      for (let k = start; k < end; k++) {
        const v = y[idx[k]!]!;
        ny[k - start] = v;
        s += v;
        ss += v * v;
      }
      const mean = s / cnt;
      const impurity = Math.max(0, ss / cnt - mean * mean);
      tree.value[node] = mean;
      tree.variance[node] = impurity;
      tree.count[node] = cnt;
      tree.feature[node] = -1;
      if (cnt < o.minSamplesSplit || cnt < 2 * o.minSamplesLeaf || impurity <= EPSILON) continue;

      // Search a split over a random subset of features.
      const feats = this.features;
      for (let j = 0; j < this.d; j++) feats[j] = j;
      let bestFeature = -1;
      let bestThreshold = 0;
      let bestProxy = -Infinity;
      let bestSumL = 0;
      let bestSsL = 0;
      let bestNL = 0;
      let tried = 0;
      for (let remaining = this.d; remaining > 0 && tried < this.maxFeatures; remaining--) {
        const pick = rng.int(remaining);
        const f = feats[pick]!;
        feats[pick] = feats[remaining - 1]!;
        feats[remaining - 1] = f;
        const col = f * n;
        let lo = Infinity;
        let hi = -Infinity;
        for (let k = start; k < end; k++) {
          const v = x[col + idx[k]!]!;
          nx[k - start] = v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (hi <= lo + FEATURE_THRESHOLD) continue; // constant in this node: does not count as tried
        tried++;
        if (o.splitter === 'random') {
          let thr = lo + (hi - lo) * rng.random();
          if (thr >= hi) thr = lo;
          let sl = 0;
          let ssl = 0;
          let nl = 0;
          for (let k = 0; k < cnt; k++) {
            if (nx[k]! <= thr) {
              const v = ny[k]!;
              sl += v;
              ssl += v * v;
              nl++;
            }
          }
          const nr = cnt - nl;
          if (nl < o.minSamplesLeaf || nr < o.minSamplesLeaf) continue;
          const sr = s - sl;
          const proxy = (sl * sl) / nl + (sr * sr) / nr;
          if (proxy > bestProxy) {
            bestProxy = proxy;
            bestFeature = f;
            bestThreshold = thr;
            bestSumL = sl;
            bestSsL = ssl;
            bestNL = nl;
          }
        } else {
          const vals = this.tmpVals;
          const order = this.tmpOrder;
          for (let k = 0; k < cnt; k++) {
            order[k] = idx[start + k]!;
          }
          const sub = order.subarray(0, cnt);
          sub.sort((a, b) => x[col + a]! - x[col + b]!);
          for (let k = 0; k < cnt; k++) vals[k] = x[col + sub[k]!]!;
          let sl = 0;
          let ssl = 0;
          for (let k = 0; k < cnt - 1; k++) {
            const v = y[sub[k]!]!;
            sl += v;
            ssl += v * v;
            const nl = k + 1;
            const nr = cnt - nl;
            if (vals[k + 1]! <= vals[k]! + FEATURE_THRESHOLD) continue;
            if (nl < o.minSamplesLeaf || nr < o.minSamplesLeaf) continue;
            const sr = s - sl;
            const proxy = (sl * sl) / nl + (sr * sr) / nr;
            if (proxy > bestProxy) {
              bestProxy = proxy;
              bestFeature = f;
              bestThreshold = (vals[k]! + vals[k + 1]!) / 2;
              if (bestThreshold >= vals[k + 1]! || !Number.isFinite(bestThreshold)) bestThreshold = vals[k]!;
              bestSumL = sl;
              bestSsL = ssl;
              bestNL = nl;
            }
          }
        }
      }
      if (bestFeature < 0) continue;
      const nl = bestNL;
      const nr = cnt - nl;
      const meanL = bestSumL / nl;
      const meanR = (s - bestSumL) / nr;
      const impL = Math.max(0, bestSsL / nl - meanL * meanL);
      const impR = Math.max(0, (ss - bestSsL) / nr - meanR * meanR);
      const improvement = (cnt / total) * (impurity - (nl / cnt) * impL - (nr / cnt) * impR);
      if (improvement + EPSILON < o.minImpurityDecrease) continue;

      // Partition idx[start, end) so that the left samples come first.
      const col = bestFeature * n;
      let i = start;
      let j = end - 1;
      while (i <= j) {
        if (x[col + idx[i]!]! <= bestThreshold) i++;
        else {
          const t = idx[i]!;
          idx[i] = idx[j]!;
          idx[j] = t;
          j--;
        }
      }
      const leftId = tree.nodeCount++;
      const rightId = tree.nodeCount++;
      tree.feature[node] = bestFeature;
      tree.threshold[node] = bestThreshold;
      tree.left[node] = leftId;
      tree.right[node] = rightId;
      stack.push(rightId, start + nl, end, leftId, start, start + nl);
    }
    return tree;
  }
}
