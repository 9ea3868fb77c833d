// The recorded benchmark curves: small, well-formed, reproducible by the record script, and replayed as documented.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CURVES_URL, type RecordedCurves, type RecordedTask } from '../../bench/stoppers/curves.js';
import { replay, sampleOrder } from '../../bench/stoppers/replay.js';
import { ConstantStopper, IdleStopper } from '../../client/stopper/index.js';

const run = promisify(execFile);

t.test('curves.json is small and well formed', async (t) => {
  t.ok(statSync(CURVES_URL).size < 1_000_000, 'under 1 MB');
  const data = JSON.parse(readFileSync(CURVES_URL, 'utf8')) as RecordedCurves;
  t.equal(data.format, 'deephyper-ts/stopper-curves@1');
  t.ok(data.tasks.length >= 2);
  for (const task of data.tasks) {
    t.ok(task.curves.length >= 100, `${task.name}: ${task.curves.length} curves`);
    t.ok(task.curves.every((c) => c.validation.length === data.maxSteps && c.test.length === data.maxSteps));
  }
});

t.test('the record script regenerates the committed curves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-curves-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'curves.json');
  const script = new URL('../../bench/stoppers/record.js', import.meta.url).pathname;
  await run(process.execPath, [script, '--configs', '2', '--tasks', 'spirals', '--out', out], { timeout: 60_000 });
  const fresh = JSON.parse(readFileSync(out, 'utf8')) as RecordedCurves;
  const committed = JSON.parse(readFileSync(CURVES_URL, 'utf8')) as RecordedCurves;
  // The first task's data set and first configurations come first from the seed, whatever the count.
  t.same(fresh.tasks[0]!.curves, committed.tasks[0]!.curves.slice(0, 2));
  t.same(fresh.tasks[0]!.dataset, committed.tasks[0]!.dataset);
});

t.test('replay: steps, choice by the kept objective, regret on final test accuracy', async (t) => {
  const task: RecordedTask = {
    name: 'hand-made',
    dataset: { generator: 'none', size: 0, seed: 0 },
    curves: [
      { config: {}, validation: [0.5, 0.6, 0.7], test: [0.5, 0.6, 0.65] },
      { config: {}, validation: [0.6, 0.6, 0.6], test: [0.6, 0.6, 0.6] },
      { config: {}, validation: [0.2, 0.5, 0.9], test: [0.2, 0.5, 0.8] },
    ],
  };
  const order = [0, 1, 2];
  t.same(replay(task, order, new IdleStopper({ maxSteps: 3 })), { steps: 9, regret: 0, chosen: 2 });
  // Stopping at step 1 picks the best first value (curve 1, final test 0.6): regret 0.8 − 0.6.
  const one = replay(task, order, new ConstantStopper({ maxSteps: 3, stopStep: 1 }));
  t.equal(one.steps, 3);
  t.equal(one.chosen, 1);
  t.equal(Number(one.regret.toFixed(10)), 0.2);
  t.same(replay(task, order, new IdleStopper({ maxSteps: 3 }), 2), { steps: 9, regret: 0, chosen: 2 }, 'two workers');
  t.same(replay(task, order, new ConstantStopper({ maxSteps: 3, stopStep: 1 }), 3), one, 'three workers');
  t.same(sampleOrder(task, 3, 2), sampleOrder(task, 3, 2), 'seeded order');
  t.equal(sampleOrder(task, 3, 10).length, 3);
});
