// Constant-liar batches without refitting: a lie only changes the statistics of the leaves it falls in (one per
// tree), so the predictions of a shared candidate sweep are updated for the candidates in those leaves instead of
// re-predicting the whole sweep. Per lie the cost is the number of candidates sharing a leaf with it, not the sweep.
import type { Forest, Prediction } from './forest.js';

export class LiarPool {
  readonly m: number;
  /** 1 for candidates already picked (or found to duplicate a pick) in this batch. */
  readonly taken: Uint8Array;
  private readonly forest: Forest;
  private readonly nTrees: number;
  /** Per candidate: sum over trees of the leaf mean, of its square, and of the leaf variance. */
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly sumVar: Float64Array;
  /** Candidates of each leaf as linked lists: heads[t][leaf] is the first, next[t][c] the one after c (-1 ends). */
  private readonly heads: Int32Array[];
  private readonly next: Int32Array[];
  private readonly pred: Prediction;

  /** `rows` holds m candidates row-major; `forest` is the fitted model the lies will update in place. */
  constructor(forest: Forest, rows: Float64Array, m: number) {
    this.forest = forest;
    this.m = m;
    this.taken = new Uint8Array(m);
    const trees = forest.fittedTrees;
    this.nTrees = trees.length;
    this.sum = new Float64Array(m);
    this.sumSq = new Float64Array(m);
    this.sumVar = new Float64Array(m);
    const leafIds = trees.map(() => new Int32Array(m));
    forest.route(rows, 0, m, leafIds);
    this.heads = [];
    this.next = [];
    trees.forEach((tree, t) => {
      const ids = leafIds[t]!;
      const head = new Int32Array(tree.nodeCount).fill(-1);
      const next = new Int32Array(m);
      for (let c = m - 1; c >= 0; c--) {
        const leaf = ids[c]!;
        next[c] = head[leaf]!;
        head[leaf] = c;
        const mu = tree.value[leaf]!;
        this.sum[c]! += mu;
        this.sumSq[c]! += mu * mu;
        this.sumVar[c]! += tree.variance[leaf]!;
      }
      this.heads.push(head);
      this.next.push(next);
    });
    this.pred = { mean: new Float64Array(m), epistemicVar: new Float64Array(m), aleatoricVar: new Float64Array(m) };
  }

  /** Tells the forest the lie `y` at row `x` (leaf statistics only) and updates the affected candidates. */
  lie(x: Float64Array, y: number): void {
    const trees = this.forest.fittedTrees;
    this.forest.insert(x, 0, y, (t, leaf, oldMean, oldVar) => {
      const tree = trees[t]!;
      const mu = tree.value[leaf]!;
      const dMean = mu - oldMean;
      const dSq = mu * mu - oldMean * oldMean;
      const dVar = tree.variance[leaf]! - oldVar;
      const next = this.next[t]!;
      for (let c = this.heads[t]![leaf]!; c >= 0; c = next[c]!) {
        this.sum[c]! += dMean;
        this.sumSq[c]! += dSq;
        this.sumVar[c]! += dVar;
      }
    });
  }

  /** Current predictions of the candidates (mean, epistemic and aleatoric variance, as Forest.predict). */
  prediction(): Prediction {
    const T = this.nTrees;
    const { mean, epistemicVar, aleatoricVar } = this.pred;
    for (let c = 0; c < this.m; c++) {
      const mu = this.sum[c]! / T;
      mean[c] = mu;
      epistemicVar[c] = Math.max(0, this.sumSq[c]! / T - mu * mu);
      aleatoricVar[c] = this.sumVar[c]! / T;
    }
    return this.pred;
  }
}
