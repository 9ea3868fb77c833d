// CBO and RandomSearch through ask/tell: determinism, resume from history, failures, multi-point strategies,
// multi-objective, and CBO beating random search.
import t from 'tap';
import { CBO, RandomSearch, HpProblem, paretoFront, type Config, type Evaluation } from '../../client/hpo/index.js';

const FAST = { nPoints: 1000, ga: { popSize: 30, maxGenerations: 15 } } as const;

function mixedProblem(): HpProblem {
  return new HpProblem()
    .add('x', [-5, 5], { type: 'float' })
    .add('n', [0, 20])
    .add('c', ['a', 'b', 'c'])
    .add('lr', [1e-4, 1], { prior: 'log-uniform' });
}

function mixedObjective(c: Config): number {
  const x = c.x as number;
  return -((x - 1) ** 2) - Math.abs((c.n as number) - 7) + (c.c === 'b' ? 2 : 0) - Math.abs(Math.log10(c.lr as number) + 2);
}

function run(opt: CBO | RandomSearch, f: (c: Config) => number, evals: number, batch = 1): Evaluation[] {
  const out: Evaluation[] = [];
  while (out.length < evals) {
    const configs = opt.ask(batch);
    const evs = configs.map((config) => ({ config, objective: f(config) }));
    opt.tell(evs);
    out.push(...evs);
  }
  return out;
}

t.test('same seed, same asks; a fresh optimizer told the history asks the same next points', async (t) => {
  const a = run(new CBO(mixedProblem(), { seed: 11, ...FAST }), mixedObjective, 25);
  const b = run(new CBO(mixedProblem(), { seed: 11, ...FAST }), mixedObjective, 25);
  t.same(a.map((e) => e.config), b.map((e) => e.config), 'same seed -> same sequence');
  const c = run(new CBO(mixedProblem(), { seed: 12, ...FAST }), mixedObjective, 25);
  t.notSame(a.map((e) => e.config), c.map((e) => e.config), 'other seed -> other sequence');

  const original = new CBO(mixedProblem(), { seed: 11, ...FAST });
  const history = run(original, mixedObjective, 20, 2);
  const resumed = new CBO(mixedProblem(), { seed: 11, ...FAST });
  resumed.tell(history);
  t.same(resumed.ask(3), original.ask(3), 'resume: the state is the seed and the history');
  const rs1 = new RandomSearch(mixedProblem(), { seed: 3 });
  const rs2 = new RandomSearch(mixedProblem(), { seed: 3 });
  rs2.tell(run(rs1, mixedObjective, 10));
  t.same(rs1.ask(2), rs2.ask(2), 'random search resumes too');
});

t.test('initial design, κ schedule and duplicates', async (t) => {
  const p = new HpProblem().add('a', [0, 3]).add('b', ['u', 'v']); // 8 distinct points only
  const cbo = new CBO(p, { seed: 1, ...FAST });
  t.equal(cbo.options.nInitialPoints, 5, '2d + 1');
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const [c] = cbo.ask(1);
    const key = JSON.stringify(c);
    t.notOk(seen.has(key), `ask ${i} is new: ${key}`);
    seen.add(key);
    cbo.tell([{ config: c!, objective: (c!.a as number) + (c!.b === 'v' ? 1 : 0) }]);
  }
  t.equal(seen.size, 8, 'the whole space was visited without repeats');
  // A batch never holds duplicates either.
  const q = new CBO(new HpProblem().add('a', [0, 9]), { seed: 2, ...FAST });
  const batch = q.ask(10);
  t.equal(new Set(batch.map((c) => c.a)).size, 10);
});

t.test('failures: kept, modelled per filterFailures, never crash', async (t) => {
  // Half the space fails (a hidden constraint): CBO must learn to avoid it.
  const p = new HpProblem().add('x', [0, 1], { type: 'float' }).add('y', [0, 1], { type: 'float' });
  for (const filterFailures of ['max', 'min', 'mean', 'ignore'] as const) {
    const cbo = new CBO(p, { seed: 5, filterFailures, ...FAST });
    let failures = 0;
    let late = 0;
    for (let i = 0; i < 40; i++) {
      const [c] = cbo.ask(1);
      const fails = (c!.x as number) > 0.5;
      if (fails) {
        failures++;
        if (i >= 25) late++;
      }
      cbo.tell([fails ? { config: c!, objective: null, failed: true } : { config: c!, objective: c!.x as number }]);
    }
    t.equal(cbo.evaluations.length, 40, `${filterFailures}: failures are kept in the history`);
    if (filterFailures !== 'ignore') t.ok(late <= 5, `${filterFailures}: few failing suggestions late (${late})`);
    t.ok(failures > 0);
  }
  // All failures: keeps asking random points.
  const all = new CBO(p, { seed: 1, ...FAST });
  for (let i = 0; i < 10; i++) all.tell(all.ask(1).map((config) => ({ config, objective: null, failed: true })));
  t.equal(all.ask(2).length, 2);
  // Non-finite objectives count as failures; bad evaluations are rejected with a typed error.
  all.tell([{ config: { x: 0.1, y: 0.1 }, objective: NaN }]);
  t.equal(all.evaluations.at(-1)!.failed, true);
  t.throws(() => all.tell([{ config: { x: 2, y: 0 }, objective: 1 }]), { code: 'HPO_INVALID_EVALUATION' });
  t.throws(() => all.tell([{ config: { x: 0.2 }, objective: 'a' as unknown as number }]), { code: 'HPO_INVALID_EVALUATION' });
  t.throws(() => new CBO(p, { acqFunc: 'XX' as 'UCB' }), { code: 'HPO_INVALID_OPTION' });
});

t.test('multi-point strategies and acquisition options all produce valid distinct batches', async (t) => {
  const p = mixedProblem();
  const variants = [
    { multiPointStrategy: 'cl_max' },
    { multiPointStrategy: 'cl_min' },
    { multiPointStrategy: 'cl_mean' },
    { multiPointStrategy: 'qUCBd' },
    { acqFunc: 'qUCBd' },
    { acqFunc: 'UCB' },
    { acqFunc: 'EI' },
    { acqFunc: 'PI' },
    { surrogate: 'RF' },
    { surrogate: 'DUMMY' },
    { acqOptimizer: 'sampling' },
    { fullRefitLimit: 0 },
  ] as const;
  for (const v of variants) {
    const cbo = new CBO(p, { seed: 4, ...FAST, ...v });
    const evals = run(cbo, mixedObjective, 24, 4);
    const batch = cbo.ask(4);
    t.equal(new Set(batch.map((c) => JSON.stringify(c))).size, 4, `${JSON.stringify(v)}: 4 distinct points`);
    for (const c of batch) p.checkConfiguration(c);
    t.equal(evals.length, 24);
  }
});

t.test('multi-objective: scalarizations, lower bounds, failures, Pareto front', async (t) => {
  const p = new HpProblem().add('x', [0, 1], { type: 'float' }).add('y', [0, 1], { type: 'float' });
  // Two conflicting objectives (maximized): the front is x + y = 1... shaped by f1 = x, f2 = 1 − x² − y.
  const f = (c: Config): number[] => [c.x as number, 1 - (c.x as number) ** 2 - (c.y as number)];
  for (const mooScalarization of ['Linear', 'Chebyshev', 'AugChebyshev', 'PBI', 'Quadratic'] as const) {
    for (const objectiveScaler of ['minmax', 'log', 'quantile-uniform'] as const) {
      const cbo = new CBO(p, { seed: 2, mooScalarization, objectiveScaler, ...FAST });
      const evals: Evaluation[] = [];
      for (let i = 0; i < 20; i++) {
        const [c] = cbo.ask(1);
        const ev: Evaluation = i % 7 === 3 ? { config: c!, objective: null, failed: true } : { config: c!, objective: f(c!) };
        cbo.tell([ev]);
        evals.push(ev);
      }
      const front = paretoFront(evals);
      t.ok(front.length >= 1, `${mooScalarization}/${objectiveScaler}: front of ${front.length}`);
    }
  }
  // Lower bound on objective 0: the search concentrates where x >= 0.6.
  const bounded = new CBO(p, { seed: 3, mooLowerBounds: [0.6, null], ...FAST });
  const evals = run(bounded as CBO, (c) => f(c) as unknown as number, 40);
  const late = evals.slice(25).filter((e) => (e.config.x as number) >= 0.6).length;
  t.ok(late >= 10, `lower bound respected late in the search (${late}/15)`);
  t.throws(() => bounded.tell([{ config: { x: 0.5, y: 0.5 }, objective: [1, 2, 3] }]), { code: 'HPO_INVALID_EVALUATION' });
});

t.test('CBO beats random search over several seeds (Branin-like mixed problem)', async (t) => {
  const p = new HpProblem().add('x0', [-5, 10], { type: 'float' }).add('x1', [0, 15], { type: 'float' });
  const branin = (c: Config) => {
    const x0 = c.x0 as number;
    const x1 = c.x1 as number;
    return -((x1 - (5.1 * x0 * x0) / (4 * Math.PI ** 2) + (5 * x0) / Math.PI - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x0) + 10);
  };
  let wins = 0;
  const seeds = [0, 1, 2, 3, 4];
  for (const seed of seeds) {
    const best = (evals: Evaluation[]) => Math.max(...evals.map((e) => e.objective as number));
    const cbo = best(run(new CBO(p, { seed, nPoints: 2000, ga: { popSize: 50 } }), branin, 40));
    const rs = best(run(new RandomSearch(p, { seed }), branin, 40));
    if (cbo > rs) wins++;
    t.comment(`seed ${seed}: regret CBO ${(-cbo - 0.397887).toExponential(2)}, random ${(-rs - 0.397887).toExponential(2)}`);
  }
  t.ok(wins >= 4, `CBO better on ${wins}/5 seeds`);
});

t.test('search() drives the search loop with an evaluator', async (t) => {
  const { Evaluator } = await import('../../client/evaluator/index.js');
  const evaluator = await Evaluator.create(async (job) => -(((job.parameters.x as number) - 0.3) ** 2), { method: 'serial' });
  t.teardown(() => evaluator.close());
  const p = new HpProblem().add('x', [0, 1], { type: 'float' });
  const cbo = new CBO(p, evaluator, { seed: 1, ...FAST });
  t.equal(cbo.evaluator, evaluator);
  const results = await cbo.search({ maxEvals: 15 });
  t.ok(results, 'results returned');
  t.equal(cbo.evaluations.length >= 15, true, 'all evaluations were told to the optimizer');
  await t.rejects(new CBO(p, { seed: 1 }).search({ maxEvals: 2 }), { code: 'HPO_NO_EVALUATOR' });
});

t.test('cheap refit on long histories keeps resume determinism and still learns', async (t) => {
  const p = new HpProblem().add('x', [0, 1], { type: 'float' }).add('y', [0, 1], { type: 'float' });
  const f = (c: Config) => -(((c.x as number) - 0.7) ** 2) - ((c.y as number) - 0.2) ** 2;
  const opts = { seed: 9, fullRefitLimit: 20, nPoints: 500, ga: { popSize: 20, maxGenerations: 10 } };
  const original = new CBO(p, opts);
  const history = run(original, f, 60, 3);
  const resumed = new CBO(p, opts);
  resumed.tell(history);
  t.same(resumed.ask(4), original.ask(4), 'same asks after resume in cheap-refit mode');
  const late = history.slice(40).map((e) => e.objective as number);
  t.ok(Math.max(...late) > -0.01, `finds the optimum region (${Math.max(...late).toFixed(4)})`);
});
