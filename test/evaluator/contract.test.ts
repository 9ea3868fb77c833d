// One contract suite, run against every evaluator backend.
import t from 'tap';
import { Evaluator, type EvaluatorMethod, type JobResult } from '../../client/evaluator/index.js';

const FIXTURES = new URL('./fixtures/objectives.js', import.meta.url);
const BACKENDS: EvaluatorMethod[] = ['serial', 'thread', 'process'];

async function runOne(method: EvaluatorMethod, exportName: string, parameters: Record<string, number>, options: { timeoutMs?: number; killGraceMs?: number; stopAtStep?: number } = {}): Promise<{ result: JobResult; elapsed: number }> {
  const evaluator = await Evaluator.create(FIXTURES, exportName, { method, numWorkers: 1, timeoutMs: options.timeoutMs, killGraceMs: options.killGraceMs ?? 300 });
  try {
    if (options.stopAtStep !== undefined) {
      const at = options.stopAtStep;
      evaluator.setStopHandler((_id, step) => (step >= at ? { stop: true, reason: `test: step ${at}` } : { stop: false }));
    }
    const start = Date.now();
    evaluator.submit([{ id: '0', parameters }]);
    const results = await evaluator.gather();
    t.equal(results.length, 1);
    return { result: results[0]!, elapsed: Date.now() - start };
  } finally {
    await evaluator.close();
  }
}

for (const method of BACKENDS) {
  t.test(`${method}: contract`, async (t) => {
    await t.test('success returns the objective with timestamps in order', async (t) => {
      const { result } = await runOne(method, 'double', { x: 21 });
      t.equal(result.objective, 42);
      t.equal(result.status, 'DONE');
      const ts = result.timestamps;
      t.ok(ts.submit <= ts.start && ts.start <= ts.end);
    });
    await t.test('an exception is a failed evaluation with its message', async (t) => {
      const { result } = await runOne(method, 'throws', { x: 3 });
      t.equal(result.objective, null);
      t.equal(result.status, 'FAILED');
      t.equal(result.failure, 'F');
      t.match(result.error, /boom at x=3/);
    });
    await t.test('"F..." strings and multi-objective lists with metadata', async (t) => {
      const failed = await runOne(method, 'fails', {});
      t.equal(failed.result.failure, 'F_oom');
      const multi = await runOne(method, 'metadata', { x: 2 });
      t.same(multi.result.objective, [2, -2]);
      t.same(multi.result.metadata, { note: 'hi', id: '0' });
    });
    await t.test('timeout stops the evaluation and records it as CANCELLED', async (t) => {
      const fn = method === 'serial' ? 'deaf' : 'busy';
      const { result, elapsed } = await runOne(method, fn, { ms: 20_000 }, { timeoutMs: 300, killGraceMs: 200 });
      t.equal(result.status, 'CANCELLED');
      t.equal(result.objective, null);
      t.match(result.error, /timed out/);
      t.ok(elapsed < 3000, `gathered after ${elapsed} ms`);
    });
    await t.test('intermediate values reach the stop handler; a stop request ends the run', async (t) => {
      const full = await runOne(method, 'curve', { x: 2 });
      t.equal(full.result.objective, 20);
      t.equal(full.result.budget, 10);
      t.equal(full.result.stopped, false);
      const cut = await runOne(method, 'curve', { x: 2 }, { stopAtStep: 3 });
      t.equal(cut.result.objective, 6);
      t.equal(cut.result.budget, 3);
      t.equal(cut.result.stopped, true);
      t.equal(cut.result.stopReason, 'test: step 3');
      t.same(cut.result.metadata, { steps: 3 });
    });
    await t.test('a run that ignores its stop is killed after the grace period; objective = last record', async (t) => {
      const { result, elapsed } = await runOne(method, 'stubborn', {}, { stopAtStep: 2, killGraceMs: 300 });
      t.equal(result.stopped, true);
      t.equal(result.objective, 8);
      t.equal(result.budget, 2);
      t.ok(elapsed < 5000, `gathered after ${elapsed} ms`);
    });
    if (method !== 'serial') {
      // A crash of the process (or thread) that runs the evaluation; serial runs in the search's own process.
      await t.test('a crash of the worker is a failed evaluation and the worker is replaced', async (t) => {
        const evaluator = await Evaluator.create(FIXTURES, 'crash', { method, numWorkers: 1 });
        const after = await Evaluator.create(FIXTURES, 'double', { method, numWorkers: 1 });
        try {
          evaluator.submit([{ id: '0', parameters: {} }, { id: '1', parameters: {} }]);
          const got: JobResult[] = [];
          while (got.length < 2) got.push(...(await evaluator.gather()));
          for (const r of got) {
            t.equal(r.status, 'FAILED');
            t.match(r.error, /exited/);
          }
          after.submit([{ id: '2', parameters: { x: 1 } }]);
          t.equal((await after.gather())[0]!.objective, 2);
        } finally {
          await evaluator.close();
          await after.close();
        }
      });
    }
  });
}

t.test('thread: the shared stop flag is seen by a run that never yields', async (t) => {
  const evaluator = await Evaluator.create(FIXTURES, 'spinUntilStopped', { method: 'thread', numWorkers: 1 });
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
  const evaluator = await Evaluator.create(FIXTURES, 'deaf', { method: 'thread', numWorkers: 3 });
  try {
    // Start the three threads first, so that the timing below measures scheduling only.
    evaluator.submit([0, 1, 2].map((i) => ({ id: `warm${i}`, parameters: { ms: 1 } })));
    for (let n = 0; n < 3; ) n += (await evaluator.gather()).length;
    evaluator.submit([300, 100, 200, 100].map((ms, i) => ({ id: String(i), parameters: { ms } })));
    const start = Date.now();
    const order: string[] = [];
    while (order.length < 4) for (const r of await evaluator.gather()) order.push(r.id);
    t.same(order.slice(0, 1), ['1']);
    // One at a time would take 700 ms; three at a time about 300 ms.
    t.ok(Date.now() - start < 650, `took ${Date.now() - start} ms`);
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
