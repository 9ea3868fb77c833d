// The recorded benchmark curves: small, well-formed, reproducible by the record script, and replayed as documented.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CURVES_FORMAT, CURVES_URL, CurvesFormatError, loadCurves, type RecordedTask, type StoredCurves } from '../../bench/stoppers/curves.js';
import { PoolOracleLCStopper } from '../../bench/stoppers/oracle.js';
import { poolOptimum, replay, sampleOrder } from '../../bench/stoppers/replay.js';
import { ConstantStopper, IdleStopper, SuccessiveHalvingStopper, type StopDecision } from '../../client/stopper/index.js';

const run = promisify(execFile);

t.test('curves.json is small and well formed', async (t) => {
  t.ok(statSync(CURVES_URL).size < 2_000_000, 'under 2 MB');
  const stored = JSON.parse(readFileSync(CURVES_URL, 'utf8')) as StoredCurves;
  t.equal(stored.format, CURVES_FORMAT);
  const data = loadCurves();
  t.ok(data.tasks.length >= 2);
  for (const task of data.tasks) {
    t.ok(task.curves.length >= 600, `${task.name}: ${task.curves.length} curves (the budget B/3 must not exhaust the pool)`);
    t.ok(task.curves.every((c) => c.validation.length === data.maxSteps && c.test.length === data.maxSteps));
    t.ok(task.curves.every((c) => [...c.validation, ...c.test].every((x) => x >= 0 && x <= 1)), 'accuracies in [0, 1]');
  }
});

t.test('loadCurves names the file and the fix when the format is old', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-curves-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify({ format: 'deephyper-ts/stopper-curves@1', tasks: [] }));
  let error: unknown;
  try {
    loadCurves(old);
  } catch (e) {
    error = e;
  }
  t.ok(error instanceof CurvesFormatError, 'a CurvesFormatError');
  t.match(error, { code: 'ERR_STOPPER_CURVES_FORMAT', message: /old\.json.*@1.*record\.js/ });
});

t.test('the record script regenerates the committed curves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-curves-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'curves.json');
  const script = new URL('../../bench/stoppers/record.js', import.meta.url).pathname;
  await run(process.execPath, [script, '--configs', '1', '--out', out], { timeout: 60_000 });
  const fresh = JSON.parse(readFileSync(out, 'utf8')) as StoredCurves;
  const committed = JSON.parse(readFileSync(CURVES_URL, 'utf8')) as StoredCurves;
  // Each task has its own stream: its data set and first configurations do not depend on --configs.
  t.equal(fresh.tasks.length, committed.tasks.length);
  fresh.tasks.forEach((task, i) => {
    const { curves, ...header } = task;
    const { curves: committedCurves, ...committedHeader } = committed.tasks[i]!;
    t.same(header, committedHeader, `${task.name}: seeds and sizes`);
    t.same(curves, committedCurves.slice(0, 1), `${task.name}: first curve`);
  });
});

const handMade: RecordedTask = {
  name: 'hand-made',
  dataset: { generator: 'none', size: 0, seed: 0 },
  curves: [
    { config: {}, validation: [0.5, 0.6, 0.7], test: [0.5, 0.6, 0.65] },
    { config: {}, validation: [0.6, 0.6, 0.6], test: [0.55, 0.6, 0.6] },
    { config: {}, validation: [0.2, 0.5, 0.9], test: [0.2, 0.5, 0.8] },
  ],
};

t.test('replay: choice by the kept objective, regret of the model at the step where it stopped', async (t) => {
  const order = [0, 1, 2];
  t.equal(poolOptimum(handMade), 0.8);
  const full = replay(handMade, order, new IdleStopper({ maxSteps: 3 }), { budgets: [9], selectionConfigs: 3 });
  t.match(full.snapshots, [{ budget: 9, stepsUsed: 9, started: 3, ended: 3, chosen: 2, chosenStep: 3, regret: 0 }]);
  t.match(full.selection, { configs: 3, steps: 9, regret: 0, chosen: 2 });
  // Stopping at step 1 keeps the best first value (curve 1): the model at step 1 scores 0.55 on test, so the
  // regret is 0.8 − 0.55, while the selection regret imagines it trained to the end (0.8 − 0.6).
  const one = replay(handMade, order, new ConstantStopper({ maxSteps: 3, stopStep: 1 }), { budgets: [9], selectionConfigs: 3 });
  t.match(one.snapshots[0], { stepsUsed: 3, ended: 3, chosen: 1, chosenStep: 1 });
  t.equal(Number(one.snapshots[0]!.regret.toFixed(10)), 0.25);
  t.equal(Number(one.selection!.regret.toFixed(10)), 0.2);
  t.equal(one.selection!.steps, 3);
  // The optimum is the pool's, even for configurations a seed never reaches.
  const two = replay(handMade, [0, 1], new IdleStopper({ maxSteps: 3 }), { budgets: [9] });
  t.equal(Number(two.snapshots[0]!.regret.toFixed(10)), 0.15, 'curve 0 chosen, 0.8 − 0.65');
});

t.test('replay: budgets cut the search, runs in flight are not results, an exhausted pool shows fewer steps', async (t) => {
  const order = [0, 1, 2];
  const cut = replay(handMade, order, new IdleStopper({ maxSteps: 3 }), { budgets: [9, 2, 4, 100] });
  t.same(cut.snapshots.map((s) => [s.budget, s.stepsUsed, s.started, s.ended, s.chosen]), [
    [2, 2, 1, 0, -1],
    [4, 4, 2, 1, 0],
    [9, 9, 3, 3, 2],
    [100, 9, 3, 3, 2],
  ]);
  t.ok(Number.isNaN(cut.snapshots[0]!.regret), 'no result yet: no regret');
  // Two workers: both runs advance in lockstep; at 4 steps both are in flight.
  const two = replay(handMade, order, new IdleStopper({ maxSteps: 3 }), { budgets: [4, 6, 9], workers: 2 });
  t.same(two.snapshots.map((s) => [s.stepsUsed, s.started, s.ended, s.chosen]), [
    [4, 2, 0, -1],
    [6, 3, 2, 0],
    [9, 3, 3, 2],
  ]);
  // The selection still covers its configurations when the budget ends first.
  const short = replay(handMade, order, new IdleStopper({ maxSteps: 3 }), { budgets: [3], selectionConfigs: 3 });
  t.match(short.snapshots[0], { stepsUsed: 3, ended: 1, chosen: 0 });
  t.match(short.selection, { steps: 9, chosen: 2, regret: 0 });
});

t.test('replay is deterministic and the same order serves every policy', async (t) => {
  t.same(sampleOrder(handMade, 3), sampleOrder(handMade, 3), 'seeded order');
  t.equal(sampleOrder(handMade, 3).length, 3);
  t.same([...sampleOrder(handMade, 5)].sort(), [0, 1, 2], 'without replacement');
  const data = loadCurves();
  const task = data.tasks[0]!;
  const order = sampleOrder(task, 7);
  const options = { budgets: [500, 2000] };
  const a = replay(task, order, new SuccessiveHalvingStopper({ maxSteps: data.maxSteps }), options);
  const b = replay(task, order, new SuccessiveHalvingStopper({ maxSteps: data.maxSteps }), options);
  t.same(a, b);
  t.ok(a.snapshots[1]!.started > 2000 / data.maxSteps, 'early discarding tries more configurations than B / maxSteps');
});

t.test("the oracle diagnostic: LCE's rule, the probability read off the nearest pool curves (the run itself excluded)", async (t) => {
  const riser = { config: {}, validation: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], test: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95] };
  const flat = { config: {}, validation: Array(8).fill(0.5), test: Array(8).fill(0.5) };
  const task: RecordedTask = { name: 'oracle', dataset: { generator: 'none', size: 0, seed: 0 }, curves: [riser, riser, flat, flat, flat] };
  const oracle = new PoolOracleLCStopper({ maxSteps: 8, earlyStoppingPatience: 8 }, task, 2);
  // A flat run: its two nearest others are flat and end at 0.5, no better than its own best: stopped at the first fit.
  const steps = [1, 2, 3].map((s) => oracle.observe('c2', s, 0.5));
  t.ok(steps.every((d) => !d.stop), 'no judgement before minObsToFitLcModel = 4 points');
  t.match(oracle.observe('c2', 4, 0.5), { stop: true, reason: /^lce: P\(value at step 8 ≤ best 0\.5\) = 1\.000 > 0\.9$/ });
  oracle.complete('c2');
  // A riser: its nearest other curve rises to 0.95 and the next is flat (0.5 ≤ best 0.5): P = 0.5, it runs to the end.
  let last: StopDecision = { stop: false };
  for (let s = 1; s <= 8 && !last.stop; s++) last = oracle.observe('c0', s, riser.validation[s - 1]!);
  t.same(last, { stop: true, reason: 'max steps reached' });
  t.equal(oracle.fitCount, 5, 'one estimate per judged step (4 for the riser, 1 for the flat run)');
});
