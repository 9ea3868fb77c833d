// Constant-liar batches: lies update the leaves they fall in and the shared sweep's predictions incrementally; the
// initial design is asked at random as a whole (DeepHyper's rule); batches stay seeded, resumable and distinct.
import t from 'tap';
import { CBO, HpProblem, type Config, type Evaluation } from '../../client/hpo/index.js';
import { Forest } from '../../client/hpo/forest.js';
import { LiarPool } from '../../client/hpo/liar-pool.js';
import { Rng } from '../../client/hpo/rng.js';

const FAST = { nPoints: 500, ga: { popSize: 20, maxGenerations: 10 } } as const;

function problem(): HpProblem {
  return new HpProblem().add('x', [-5, 5], { type: 'float' }).add('y', [-5, 5], { type: 'float' }).add('n', [0, 20]).add('c', ['a', 'b']);
}

function objective(c: Config): number {
  return -(((c.x as number) - 1) ** 2) - ((c.y as number) + 2) ** 2 - Math.abs((c.n as number) - 7) + (c.c === 'b' ? 1 : 0);
}

function told(cbo: CBO, evals: number, seedOffset = 0): Evaluation[] {
  const rng = new Rng(99 + seedOffset);
  const p = problem();
  const out: Evaluation[] = [];
  for (let i = 0; i < evals; i++) {
    const config = p.decode(p.sampleEncoded(rng, 1));
    out.push({ config, objective: objective(config) });
  }
  cbo.tell(out);
  return out;
}

t.test('LiarPool: predictions after lies equal a full prediction of the updated forest', async (t) => {
  const rng = new Rng(5);
  const n = 200;
  const d = 3;
  const xCols = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xCols[j * n + i] = rng.random();
    y[i] = Math.sin(6 * xCols[i]!) + xCols[n + i]! ** 2 + 0.1 * rng.random();
  }
  const forest = new Forest({ minImpurityDecrease: 0 }).fit(xCols, n, d, y, rng.fork());
  const m = 300;
  const rows = new Float64Array(m * d);
  for (let k = 0; k < rows.length; k++) rows[k] = rng.random();
  const pool = new LiarPool(forest, rows, m);
  for (let l = 0; l < 25; l++) pool.lie(rows.subarray(l * 7 * d, l * 7 * d + d).slice(), -1 + 0.01 * l);
  const inc = pool.prediction();
  const full = forest.predict(rows, m);
  let worst = 0;
  for (let k = 0; k < m; k++) {
    worst = Math.max(worst, Math.abs(inc.mean[k]! - full.mean[k]!), Math.abs(inc.epistemicVar[k]! - full.epistemicVar[k]!), Math.abs(inc.aleatoricVar[k]! - full.aleatoricVar[k]!));
  }
  t.ok(worst < 1e-9, `largest difference ${worst}`);
  t.ok(inc.mean[0]! < full.mean[0]! + 1e-9 && inc.mean[0]! <= Math.max(...Array.from(y)), 'a lie moved its leaves');
});

t.test('below n_initial_points successes the whole batch is random design (no model, no GA)', async (t) => {
  const cbo = new CBO(problem(), { seed: 3, ...FAST, nInitialPoints: 9 });
  told(cbo, 5);
  const batch = cbo.ask(12);
  t.equal(batch.length, 12);
  t.equal(cbo.gaGenerations, 0, 'no acquisition optimization in the initial phase');
  t.equal(new Set(batch.map((c) => JSON.stringify(c))).size, 12, 'distinct');
  told(cbo, 4, 1);
  cbo.ask(1);
  t.ok(cbo.gaGenerations > 0, 'the model takes over once 9 evaluations succeeded');
});

t.test('constant-liar batches: seeded, resumable, distinct, better than random; every strategy', async (t) => {
  for (const multiPointStrategy of ['cl_max', 'cl_min', 'cl_mean'] as const) {
    const make = () => new CBO(problem(), { seed: 21, ...FAST, multiPointStrategy, maxGaRunsPerAsk: 3 });
    const a = make();
    const history = told(a, 40);
    const batchA = a.ask(40);
    const b = make();
    b.tell(history);
    t.same(b.ask(40), batchA, `${multiPointStrategy}: a fresh optimizer told the history asks the same batch`);
    const keys = new Set(batchA.map((c) => JSON.stringify(c)));
    t.equal(keys.size, 40, `${multiPointStrategy}: no duplicate inside the batch`);
    t.notOk(history.some((e) => keys.has(JSON.stringify(e.config))), `${multiPointStrategy}: nothing already evaluated`);
    if (multiPointStrategy === 'cl_max') {
      // The batch comes from the model: its mean objective beats the random history's.
      const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
      const batchMean = mean(batchA.map(objective));
      const randomMean = mean(history.map((e) => e.objective as number));
      t.ok(batchMean > randomMean, `batch mean ${batchMean.toFixed(2)} > random mean ${randomMean.toFixed(2)}`);
    }
  }
});

t.test('constant-liar batches on long histories (anchored forest) resume identically', async (t) => {
  const make = () => new CBO(problem(), { seed: 4, ...FAST, fullRefitLimit: 30 });
  const a = make();
  const history = told(a, 60);
  const first = a.ask(16);
  a.tell(first.map((config) => ({ config, objective: objective(config) })));
  const second = a.ask(16);
  const b = make();
  b.tell(history);
  b.ask(16);
  b.tell(first.map((config) => ({ config, objective: objective(config) })));
  t.same(b.ask(16), second, 'lies written into the reused forest do not leak into later asks');
});

t.test('maxGaRunsPerAsk is validated', async (t) => {
  t.throws(() => new CBO(problem(), { maxGaRunsPerAsk: 0 }), { code: 'HPO_INVALID_OPTION' });
  t.throws(() => new CBO(problem(), { maxGaRunsPerAsk: 1.5 }), { code: 'HPO_INVALID_OPTION' });
});
