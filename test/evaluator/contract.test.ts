// One contract suite, run against every evaluator backend (the cluster one in cluster.test.ts).
import t from 'tap';
import { Evaluator, type EvaluatorMethod } from '../../client/evaluator/index.js';
import { contractSuite, FIXTURES } from './contract-suite.js';

// Workers skip tap's TypeScript loader (the fixtures are compiled JavaScript): much faster start-up.
const execArgv: string[] = [];

for (const method of ['serial', 'thread', 'process'] as EvaluatorMethod[]) {
  t.test(`${method}: contract`, (t) => contractSuite(t, method, { execArgv }));
}

t.test('thread: the shared stop flag is seen by a run that never yields', async (t) => {
  const evaluator = await Evaluator.create(FIXTURES, 'spinUntilStopped', { method: 'thread', numWorkers: 1, execArgv });
  try {
    evaluator.setStopHandler(() => ({ stop: true, reason: 'now' }));
    evaluator.submit([{ id: '0', parameters: {} }]);
    const [r] = await evaluator.gather();
    t.same(r!.metadata, { sawStop: true });
    t.equal(r!.objective, 5, 'a stopped run keeps the value the stopper judged');
    t.equal(r!.stopped, true);
    t.ok(r!.timestamps.end - r!.timestamps.start < 2000);
  } finally {
    await evaluator.close();
  }
});

t.test('numWorkers evaluations run at once and results come back as soon as each finishes', async (t) => {
  const evaluator = await Evaluator.create(FIXTURES, 'deaf', { method: 'thread', numWorkers: 3, execArgv });
  try {
    // Start the three threads first, so that the timing below measures scheduling only.
    evaluator.submit([0, 1, 2].map((i) => ({ id: `warm${i}`, parameters: { ms: 1 } })));
    for (let n = 0; n < 3; ) n += (await evaluator.gather()).length;
    evaluator.submit([600, 200, 400, 200].map((ms, i) => ({ id: String(i), parameters: { ms } })));
    const start = Date.now();
    const order: string[] = [];
    while (order.length < 4) for (const r of await evaluator.gather()) order.push(r.id);
    t.same(order.slice(0, 1), ['1']);
    // One at a time would take 1,400 ms; three at a time about 600 ms.
    t.ok(Date.now() - start < 1100, `took ${Date.now() - start} ms`);
  } finally {
    await evaluator.close();
  }
});

t.test('bad options and modules give clear errors', async (t) => {
  await t.rejects(Evaluator.create(FIXTURES, 'double', { method: 'gpu' as EvaluatorMethod }), { code: 'EVALUATOR_BAD_OPTIONS' });
  await t.rejects(Evaluator.create(FIXTURES, 'double', { numWorkers: 0 }), { code: 'EVALUATOR_BAD_OPTIONS' });
  await t.rejects(Evaluator.create(async () => 1, { method: 'thread' }), /only run with method "serial"/);
  const ev = await Evaluator.create(FIXTURES, 'nope', { method: 'serial' });
  ev.submit([{ id: '0', parameters: {} }]);
  const [r] = await ev.gather();
  t.match(r!.error, /no exported function "nope"/);
  await ev.close();
});
