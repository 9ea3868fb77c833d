// Contract of every stopper: the state is a function of the calls only (a journal replay rebuilds it), the
// max-steps and failure rules, late reports after a stop.
import t from 'tap';
import { SeededRandom } from '../../client/learn/random.js';
import { createStopper, parseStopperName, StopperConfigError, type Stopper } from '../../client/stopper/index.js';

type Call = { kind: 'observe'; jobId: string; step: number; objective: number } | { kind: 'complete'; jobId: string };

/** An interleaved schedule of 4 workers running noisy saturating curves, as the search loop would produce. */
function drive(stopper: Stopper, seed: number): { calls: Call[]; decisions: string[] } {
  const rng = new SeededRandom(seed);
  const calls: Call[] = [];
  const decisions: string[] = [];
  const workers: { jobId: string; step: number; level: number; rate: number }[] = [];
  let next = 0;
  const start = () => ({ jobId: `job-${next++}`, step: 0, level: rng.uniform(0.4, 0.95), rate: rng.uniform(1, 8) });
  for (let w = 0; w < 4; w++) workers.push(start());
  while (next < 24) {
    const w = rng.int(workers.length);
    const run = workers[w]!;
    run.step++;
    const objective = (run.level * run.step) / (run.rate + run.step) + 0.01 * rng.normal();
    calls.push({ kind: 'observe', jobId: run.jobId, step: run.step, objective });
    const d = stopper.observe(run.jobId, run.step, objective);
    decisions.push(`${run.jobId}@${run.step}:${d.stop}:${d.reason ?? ''}`);
    if (d.stop) {
      calls.push({ kind: 'complete', jobId: run.jobId });
      stopper.complete(run.jobId);
      workers[w] = start();
    }
  }
  return { calls, decisions };
}

function replay(stopper: Stopper, calls: Call[]): string[] {
  const decisions: string[] = [];
  for (const c of calls) {
    if (c.kind === 'complete') stopper.complete(c.jobId);
    else {
      const d = stopper.observe(c.jobId, c.step, c.objective);
      decisions.push(`${c.jobId}@${c.step}:${d.stop}:${d.reason ?? ''}`);
    }
  }
  return decisions;
}

const makers: [string, () => Stopper][] = [
  ['sha', () => createStopper('sha', { maxSteps: 12 })],
  ['median', () => createStopper('median', { maxSteps: 12, minCompeting: 3 })],
  ['lce', () => createStopper('lce', { maxSteps: 12, seed: 4, sampler: { numSamples: 300, numWarmup: 100 } })],
  ['constant', () => createStopper('constant', { maxSteps: 12, stopStep: 3 })],
  ['idle', () => createStopper('idle', { maxSteps: 12 })],
];

for (const [name, make] of makers) {
  t.test(`${name}: replaying the journal of calls gives the same decisions`, async (t) => {
    const original = drive(make(), 17);
    const replayed = replay(make(), original.calls);
    t.same(replayed, original.decisions);
    t.ok(original.decisions.some((d) => d.includes(':true:')), 'some runs ended');
  });

  t.test(`${name}: maxSteps, failure and late reports`, async (t) => {
    const s = make();
    t.equal(s.name, parseStopperName(name));
    t.same(s.observe('f', 1, Number.NaN), { stop: true, reason: 'failure: non-numeric objective' });
    t.same(s.observe('f', 2, 0.5), { stop: true, reason: 'already stopped' });
    const full = make();
    let last = { stop: false } as { stop: boolean; reason?: string };
    for (let step = 1; step <= 12 && !last.stop; step++) last = full.observe('x', step, 0.5 + step / 100);
    t.equal(last.stop, true);
    t.ok(full.objectiveOf?.('x') !== undefined);
  });
}

t.test('createStopper / parseStopperName', async (t) => {
  t.equal(parseStopperName('asha'), 'sha');
  t.equal(parseStopperName('none'), 'idle');
  t.throws(() => parseStopperName('hyperband'), StopperConfigError);
  t.equal(createStopper('lce', { maxSteps: 5 }).maxSteps, 5);
});
