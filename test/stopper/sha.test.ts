import t from 'tap';
import { SeededRandom } from '../../client/learn/random.js';
import {
  StopperConfigError,
  StopperObservationError,
  SuccessiveHalvingStopper,
} from '../../client/stopper/index.js';
import { flat, runToEnd } from './helpers.js';

t.test('halting steps follow (minSteps − 1) + rf^(rate + rung)', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 50 });
  t.same([0, 1, 2, 3].map((r) => sha.haltingStep(r)), [1, 3, 9, 27]);
  const shifted = new SuccessiveHalvingStopper({ maxSteps: 100, minSteps: 2, reductionFactor: 2, minEarlyStoppingRate: 1 });
  t.same([0, 1, 2].map((r) => shifted.haltingStep(r)), [3, 5, 9]);
});

t.test('flat curves: only top-⌊n/3⌋ (at least 1) of each rung goes on', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 50 });
  t.same(runToEnd(sha, 'a', flat(0.5)), { stoppedAt: 50, reason: 'max steps reached' }, 'alone: promoted at every rung');
  t.equal(runToEnd(sha, 'b', flat(0.9)).stoppedAt, 50, 'n=2, k=1: the best goes on');
  const c = runToEnd(sha, 'c', flat(0.1));
  t.equal(c.stoppedAt, 1, 'n=3, k=1: below the best stops at rung 0');
  t.match(c.reason, /^sha: 0\.1 below top-1 of 3 \(0\.9\) at rung 0/);
  t.equal(runToEnd(sha, 'd', flat(0.7)).stoppedAt, 1);
  t.equal(runToEnd(sha, 'e', flat(0.95)).stoppedAt, 50);
  // Rung 0 now holds [0.1 0.5 0.7 0.9 0.95 (+ f)]: n=6 ⇒ k=2, 2nd best is 0.9: f is promoted (ties go on);
  // rung 1 holds [0.5 0.9 0.95 (+ f)]: n=4 ⇒ k=1: f stops at step 3.
  t.equal(runToEnd(sha, 'f', flat(0.9)).stoppedAt, 3, 'equal to the k-th best is promoted, then judged at rung 1');
  // A run good at rung 0 but worse later is stopped at the rung where it falls behind.
  const g = runToEnd(sha, 'g', (s) => (s < 3 ? 0.99 : 0.2));
  t.equal(g.stoppedAt, 3);
  t.match(g.reason, /rung 1 \(step 3\)/);
  t.equal(sha.rung('a'), 4);
  t.equal(sha.numFullyCompleted, 3);
});

t.test('random curves only ever stop at 1, 3, 9, 27 or 50 (DeepHyper test)', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 50, reductionFactor: 3 });
  const rng = new SeededRandom(11);
  const stops = new Set<number>();
  for (let i = 0; i < 60; i++) {
    const level = rng.next();
    const rate = rng.uniform(1, 10);
    stops.add(runToEnd(sha, `r${i}`, (s) => (level * s) / (rate + s)).stoppedAt);
  }
  t.ok([...stops].every((s) => [1, 3, 9, 27, 50].includes(s)), `stop steps ${[...stops].sort((a, b) => a - b)}`);
  t.ok(stops.has(1) && stops.has(50));
});

t.test('minCompeting stops runs that meet too few competitors', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 10, minCompeting: 2 });
  const first = runToEnd(sha, 'a', flat(0.9));
  t.equal(first.stoppedAt, 1);
  t.match(first.reason, /1 < minCompeting 2 at rung 0/);
  t.equal(runToEnd(sha, 'b', flat(0.95)).stoppedAt, 3, 'promoted at rung 0 (2 values), alone at rung 1');
});

t.test('minFullyCompleted promotes everyone until enough runs reached maxSteps', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 9, minFullyCompleted: 1 });
  // x and y run side by side: nobody has completed, so y (bad) is not judged.
  for (let step = 1; step <= 9; step++) {
    t.equal(sha.observe('x', step, 0.9).stop, step === 9);
    if (step <= 4) t.equal(sha.observe('y', step, 0.1).stop, false, `y continues at ${step}`);
  }
  sha.complete('x');
  t.equal(sha.numFullyCompleted, 1);
  t.equal(runToEnd(sha, 'z', flat(0.1)).stoppedAt, 1, 'after one full run, rung 0 is judged');
});

t.test('a failure removes the run from the rungs it reached', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 9 });
  t.equal(sha.observe('f', 1, 0.99).stop, false);
  const failed = sha.observe('f', 2, NaN);
  t.same(failed, { stop: true, reason: 'failure: non-numeric objective' });
  t.equal(runToEnd(sha, 'g', flat(0.5)).stoppedAt, 9, 'the failed run no longer competes');
});

t.test('observations after a stop, bad steps and bad options', async (t) => {
  const sha = new SuccessiveHalvingStopper({ maxSteps: 3 });
  runToEnd(sha, 'a', flat(1));
  t.same(sha.observe('a', 4, 1), { stop: true, reason: 'already stopped' });
  t.same(sha.observations('a').steps, [1, 2, 3], 'state unchanged by the late report');
  t.throws(() => sha.observe('b', 0, 1), StopperObservationError);
  t.throws(() => sha.observe('b', Number.NaN, 1), StopperObservationError);
  sha.observe('c', 2, 1);
  t.throws(() => sha.observe('c', 1, 0.5), StopperObservationError);
  t.throws(() => new SuccessiveHalvingStopper({ maxSteps: 10, reductionFactor: 1 }), StopperConfigError);
  t.throws(() => new SuccessiveHalvingStopper({ maxSteps: 0 }), StopperConfigError);
  sha.complete('never-seen');
  sha.complete('c');
  sha.complete('c');
  t.equal(sha.observe('c', 3, 1).reason, 'already stopped');
});
