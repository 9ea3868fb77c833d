// The evaluator contract, as a function run by contract.test.ts (serial, thread, process) and cluster.test.ts.
import type { Test as TapTest } from 'tap';
import { Evaluator, type EvaluatorMethod, type EvaluatorOptions, type JobResult } from '../../client/evaluator/index.js';

export const FIXTURES = new URL('./fixtures/objectives.js', import.meta.url);

type T = TapTest;

export async function contractSuite(t: T, method: EvaluatorMethod, extra: EvaluatorOptions = {}): Promise<void> {
  // Two evaluators serve the whole suite (workers are reused across cases, as in a search); the second one has a
  // per-evaluation timeout.
  const grace = 300;
  const plain = await Evaluator.create(FIXTURES, 'dispatch', { ...extra, method, numWorkers: 1, killGraceMs: grace });
  let timed: Evaluator | undefined;
  let nextId = 0;
  async function runOne(fn: string, parameters: Record<string, number>, options: { timeoutMs?: number; stopAtStep?: number } = {}): Promise<{ result: JobResult; elapsed: number }> {
    if (options.timeoutMs !== undefined) timed ??= await Evaluator.create(FIXTURES, 'dispatch', { ...extra, method, numWorkers: 1, killGraceMs: grace, timeoutMs: options.timeoutMs });
    const evaluator = options.timeoutMs !== undefined ? timed! : plain;
    const at = options.stopAtStep;
    evaluator.setStopHandler(at === undefined ? undefined : (_id, step) => (step >= at ? { stop: true, reason: `test: step ${at}` } : { stop: false }));
    const start = Date.now();
    evaluator.submit([{ id: String(nextId++), parameters: { ...parameters, fn } as unknown as Record<string, number> }]);
    const results = await evaluator.gather();
    t.equal(results.length, 1);
    return { result: results[0]!, elapsed: Date.now() - start };
  }
  t.teardown(async () => {
    await plain.close();
    await timed?.close();
  });
  await t.test('success returns the objective with timestamps in order', async (t) => {
    const { result } = await runOne('double', { x: 21 });
    t.equal(result.objective, 42);
    t.equal(result.status, 'DONE');
    const ts = result.timestamps;
    t.ok(ts.submit <= ts.start && ts.start <= ts.end);
  });
  await t.test('an exception is a failed evaluation with its message', async (t) => {
    const { result } = await runOne('throws', { x: 3 });
    t.equal(result.objective, null);
    t.equal(result.status, 'FAILED');
    t.equal(result.failure, 'F');
    t.match(result.error, /boom at x=3/);
  });
  await t.test('"F..." strings and multi-objective lists with metadata', async (t) => {
    const failed = await runOne('fails', {});
    t.equal(failed.result.failure, 'F_oom');
    const multi = await runOne('metadata', { x: 2 });
    t.same(multi.result.objective, [2, -2]);
    t.same(multi.result.metadata, { note: 'hi', id: multi.result.id });
  });
  await t.test('timeout stops the evaluation and records it as CANCELLED', async (t) => {
    const fn = method === 'serial' ? 'deaf' : 'busy';
    const { result, elapsed } = await runOne(fn, { ms: 20_000 }, { timeoutMs: 300 });
    t.equal(result.status, 'CANCELLED');
    t.equal(result.objective, null);
    t.match(result.error, /timed out/);
    t.ok(elapsed < 3000, `gathered after ${elapsed} ms`);
  });
  await t.test('intermediate values reach the stop handler; a stop request ends the run', async (t) => {
    const full = await runOne('curve', { x: 2 });
    t.equal(full.result.objective, 20);
    t.equal(full.result.budget, 10);
    t.equal(full.result.stopped, false);
    const cut = await runOne('curve', { x: 2 }, { stopAtStep: 3 });
    t.equal(cut.result.objective, 6);
    t.equal(cut.result.budget, 3);
    t.equal(cut.result.stopped, true);
    t.equal(cut.result.stopReason, 'test: step 3');
    t.same(cut.result.metadata, { steps: 3 });
  });
  await t.test('a run that ignores its stop is killed after the grace period; objective = last record', async (t) => {
    const { result, elapsed } = await runOne('stubborn', {}, { stopAtStep: 2 });
    t.equal(result.stopped, true);
    t.equal(result.objective, 8);
    t.equal(result.budget, 2);
    t.ok(elapsed < 5000, `gathered after ${elapsed} ms`);
  });
  if (method !== 'serial') {
    // A crash of the process (or thread) that runs the evaluation; serial runs in the search's own process.
    await t.test('a crash of the worker is a failed evaluation and the worker is replaced', async (t) => {
      for (const _ of [0, 1]) {
        const { result } = await runOne('crash', {});
        t.equal(result.status, 'FAILED');
        t.match(result.error, /exited|died/);
      }
      const { result } = await runOne('double', { x: 1 });
      t.equal(result.objective, 2, 'the worker was replaced');
    });
  }
}
