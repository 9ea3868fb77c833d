// The surrogate, the exploration schedule, the target preprocessing and the multi-objective helpers.
import t from 'tap';
import {
  Forest,
  EXTRA_TREES_DEFAULTS,
  RANDOM_FOREST_DEFAULTS,
  Rng,
  periodicExpDecay,
  scheduledKappa,
  DEFAULT_SCHEDULER,
  scalarize,
  randomSimplexWeights,
  rescale,
  clipOutliers,
  paretoFront,
  CBO,
  HpProblem,
} from '../../client/hpo/index.js';

t.test('forest: variance decomposition on known data', async (t) => {
  // One feature, two groups of repeated x values with known within-group variance: the only possible split
  // separates the groups, so every tree has the same two leaves.
  const g = 20;
  const xg = new Float64Array(2 * g);
  const yg = new Float64Array(2 * g);
  for (let i = 0; i < 2 * g; i++) {
    xg[i] = i < g ? 0 : 1;
    yg[i] = (i < g ? 0 : 1) + (i % 2 === 0 ? 0.1 : -0.1);
  }
  const forest = new Forest(EXTRA_TREES_DEFAULTS).fit(xg, 2 * g, 1, yg, new Rng(1));
  const p = forest.predict(Float64Array.from([0, 1]), 2);
  const n = 40;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i < 20 ? i / 100 : 1 + i / 100;
    y[i] = (i < 20 ? 0 : 1) + (i % 2 === 0 ? 0.1 : -0.1);
  }
  t.ok(Math.abs(p.mean[0]! - 0) < 1e-9 && Math.abs(p.mean[1]! - 1) < 1e-9, `group means (${p.mean[0]}, ${p.mean[1]})`);
  t.ok(Math.abs(p.aleatoricVar[0]! - 0.01) < 1e-9, 'aleatoric variance = within-leaf variance 0.1²');
  t.ok(p.epistemicVar[0]! < 1e-12, 'all trees agree: no epistemic variance');

  // Hand-checkable law of total variance: trees that disagree.
  const f2 = new Forest({ ...EXTRA_TREES_DEFAULTS, minImpurityDecrease: 0 }).fit(x, n, 1, y, new Rng(2));
  const q = f2.predict(Float64Array.from([0.995]), 1);
  const leafMeans = f2.fittedTrees.map((tree) => {
    let node = 0;
    while (tree.feature[node]! >= 0) node = 0.995 <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
    return tree.value[node]!;
  });
  const mu = leafMeans.reduce((a, b) => a + b, 0) / leafMeans.length;
  const ep = leafMeans.reduce((a, b) => a + (b - mu) ** 2, 0) / leafMeans.length;
  t.ok(Math.abs(q.mean[0]! - mu) < 1e-12 && Math.abs(q.epistemicVar[0]! - ep) < 1e-12, 'mean and epistemic variance are those of the tree means');
  // min_impurity_decrease = 0 grows pure leaves on distinct points: no aleatoric variance.
  t.ok(q.aleatoricVar[0]! < 1e-12);

  // A constant target gives a single-leaf forest.
  const flat = new Forest().fit(x, n, 1, new Float64Array(n).fill(3), new Rng(3));
  t.ok(flat.fittedTrees.every((tr) => tr.nodeCount === 1));
});

t.test('forest: learns a 2-D function, RF (best split, bootstrap) too; seeded', async (t) => {
  const rng = new Rng(5);
  const n = 300;
  const d = 2;
  const cols = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.random();
    const b = rng.random();
    cols[i] = a;
    cols[n + i] = b;
    y[i] = a > 0.5 ? b : -b;
  }
  const test = new Float64Array([0.9, 0.8, 0.1, 0.8, 0.9, 0.1]);
  for (const opts of [EXTRA_TREES_DEFAULTS, RANDOM_FOREST_DEFAULTS]) {
    const f = new Forest({ ...opts, minImpurityDecrease: 0 }).fit(cols, n, d, y, new Rng(7));
    const p = f.predict(test, 3);
    t.ok(Math.abs(p.mean[0]! - 0.8) < 0.15 && Math.abs(p.mean[1]! + 0.8) < 0.15 && Math.abs(p.mean[2]! - 0.1) < 0.15, `${opts.splitter}: ${Array.from(p.mean).map((v) => v.toFixed(2))}`);
    const again = new Forest({ ...opts, minImpurityDecrease: 0 }).fit(cols, n, d, y, new Rng(7)).predict(test, 3);
    t.same(Array.from(again.mean), Array.from(p.mean), `${opts.splitter}: same seed, same forest`);
  }
  // Leaf insertion (cheap constant liar) moves the prediction toward the lie.
  const f = new Forest().fit(cols, n, d, y, new Rng(8));
  const before = f.predict(test, 1).mean[0]!;
  f.insert(test, 0, -5);
  t.ok(f.predict(test, 1).mean[0]! < before);
});

t.test('kappa schedule: periodic exponential decay (DeepHyper values)', async (t) => {
  // DeepHyper measured, 1-D problem (delay 3), i = 0..9.
  const expected = [0.0826, 0.0487, 0.0287, 0.017, 1.96, 1.1562, 0.682, 0.4023, 0.2373, 0.14];
  for (let i = 0; i < 10; i++) {
    const k = scheduledKappa(i, 1.96, DEFAULT_SCHEDULER, 3);
    t.ok(Math.abs(k - expected[i]!) < 1e-3, `i=${i}: ${k.toFixed(4)}`);
    t.equal(scheduledKappa(i + 10, 1.96, DEFAULT_SCHEDULER, 3), k, 'period 10');
  }
  t.ok(Math.abs(Math.log(1.96 / 0.01) / 10 - 0.52781) < 1e-5, 'rate');
  t.equal(periodicExpDecay(4, 0.1, 1e-4, 10, 3), 0.1, 'xi restarts at its initial value');
  t.equal(scheduledKappa(7, 1.96, { ...DEFAULT_SCHEDULER, type: 'constant' }, 3), 1.96);
  const cbo = new CBO(new HpProblem().add('x', [0, 1], { type: 'float' }));
  t.equal(cbo.kappaAt(4), 1.96, 'CBO delays by 2d+1 = 3 initial points');
});

t.test('scalarizations', async (t) => {
  const y = [0.2, 0.6];
  const w = [0.25, 0.75];
  t.ok(Math.abs(scalarize('Linear', y, w) - 0.5) < 1e-12);
  t.ok(Math.abs(scalarize('Chebyshev', y, w) - 0.45) < 1e-12);
  t.ok(Math.abs(scalarize('AugChebyshev', y, w) - (0.45 + 0.001 * 0.5)) < 1e-12);
  // PBI: d1 = w·y/|w|² = 0.5/0.625 = 0.8; d2 = |y − 0.8w|₁ = |0.2−0.2| + |0.6−0.6| = 0.
  t.ok(Math.abs(scalarize('PBI', y, w) - 0.8) < 1e-12);
  t.ok(Math.abs(scalarize('PBI', [1, 0], [0.5, 0.5]) - (1 + 5 * 1)) < 1e-12, 'PBI penalty 5 on the distance to the weight ray');
  // Quadratic: along w weight 1, across w weight 10.
  const u = [1 / Math.sqrt(2), 1 / Math.sqrt(2)];
  t.ok(Math.abs(scalarize('Quadratic', u, [0.5, 0.5]) - 1) < 1e-12);
  t.ok(Math.abs(scalarize('Quadratic', [u[0]!, -u[1]!], [0.5, 0.5]) - 10) < 1e-12);
  const rng = new Rng(1);
  for (let k = 0; k < 20; k++) {
    const ws = randomSimplexWeights(3, rng);
    t.ok(Math.abs(ws.reduce((a, b) => a + b, 0) - 1) < 1e-12 && ws.every((v) => v >= 0));
  }
});

t.test('objective rescalers and outlier clipping', async (t) => {
  const mm = Float64Array.from([2, 4, 6]);
  rescale(mm, 'minmax');
  t.same(Array.from(mm), [0, 0.5, 1]);
  const cst = Float64Array.from([3, 3]);
  rescale(cst, 'minmax');
  t.same(Array.from(cst), [0, 0], 'constant maps to 0 as scikit-learn');
  const lg = Float64Array.from([1, 2, 1 + Math.E - 1]);
  rescale(lg, 'log');
  t.ok(Math.abs(lg[0]!) < 1e-12 && Math.abs(lg[1]! - Math.log(2)) < 1e-12 && Math.abs(lg[2]! - 1) < 1e-12);
  const qu = Float64Array.from([10, -5, 1000, 3, 3]);
  rescale(qu, 'quantile-uniform');
  t.same(Array.from(qu), [0.75, 0, 1, 0.375, 0.375], 'ranks, ties share their mean rank');
  const id = Float64Array.from([5, 7]);
  rescale(id, 'identity');
  t.same(Array.from(id), [5, 7]);
  const out = Float64Array.from([1, 2, 3, 4, 100]);
  const thr = clipOutliers(out, 1.5);
  t.equal(thr, 4 + 1.5 * 2, 'q3 + 1.5 IQR');
  t.same(Array.from(out), [1, 2, 3, 4, 7]);
});

t.test('Pareto front', async (t) => {
  const ev = (o: number[] | null, failed = false) => ({ config: { x: 0 }, objective: o, failed });
  const evals = [ev([1, 5]), ev([2, 4]), ev([1, 4]), ev([3, 1]), ev([2, 4]), ev(null, true), ev([0, 0]), ev([3, 0.5])];
  const front = paretoFront(evals);
  t.same(front.map((e) => e.objective), [[1, 5], [2, 4], [3, 1]], 'non-dominated, duplicates once, failures ignored');
  t.same(paretoFront([ev([1]), ev([4]), ev([2])]).map((e) => e.objective), [[4]]);
});
