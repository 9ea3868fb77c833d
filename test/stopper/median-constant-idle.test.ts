import t from 'tap';
import { ConstantStopper, IdleStopper, MedianStopper, StopperConfigError } from '../../client/stopper/index.js';
import { flat, runToEnd } from './helpers.js';

t.test('median: judged only with minCompeting values at the same step', async (t) => {
  const m = new MedianStopper({ maxSteps: 10, minCompeting: 3 });
  t.equal(runToEnd(m, 'a', flat(0.5)).stoppedAt, 10);
  t.equal(runToEnd(m, 'b', flat(0.6)).stoppedAt, 10, 'two values: not judged');
  t.equal(runToEnd(m, 'c', flat(0.7)).stoppedAt, 10, '0.7 ≥ median 0.6');
  const d = runToEnd(m, 'd', flat(0.55));
  t.equal(d.stoppedAt, 1);
  t.equal(d.reason, 'median: 0.55 below median 0.575 of 4 at step 1');
  // Step 1 holds [.5 .55 .6 .62 .7] (median .6); step 2 holds [.5 .59 .6 .7] (median .595).
  const e = runToEnd(m, 'e', (s) => (s === 1 ? 0.62 : 0.59));
  t.equal(e.stoppedAt, 2);
});

t.test('median: minSteps and intervalSteps choose the judged steps', async (t) => {
  const m = new MedianStopper({ maxSteps: 30, minSteps: 5, intervalSteps: 5, minCompeting: 2 });
  t.same([4, 5, 7, 10, 15].map((s) => m.rungOfStep(s)), [-1, 0, -1, 1, 2]);
  runToEnd(m, 'a', flat(0.8));
  const b = runToEnd(m, 'b', flat(0.3));
  t.equal(b.stoppedAt, 5, 'first judged at step 5');
});

t.test('constant: every run stops at stopStep (the i-epoch policy)', async (t) => {
  const c = new ConstantStopper({ maxSteps: 50, stopStep: 3 });
  t.same(runToEnd(c, 'a', flat(0.9)), { stoppedAt: 3, reason: 'constant: step 3 reached' });
  t.same(runToEnd(c, 'b', flat(0.1)), { stoppedAt: 3, reason: 'constant: step 3 reached' });
  t.equal(runToEnd(new ConstantStopper({ maxSteps: 5, stopStep: 5 }), 'c', flat(1)).reason, 'max steps reached');
  t.throws(() => new ConstantStopper({ maxSteps: 5, stopStep: 6 }), StopperConfigError);
});

t.test('idle: never stops before maxSteps except on failure', async (t) => {
  const idle = new IdleStopper({ maxSteps: 7 });
  t.same(runToEnd(idle, 'a', flat(0)), { stoppedAt: 7, reason: 'max steps reached' });
  t.same(runToEnd(idle, 'b', (s) => (s === 4 ? Number.NaN : 1)), { stoppedAt: 4, reason: 'failure: non-numeric objective' });
  t.equal(idle.objectiveOf('a'), 0);
  t.equal(idle.objectiveOf('missing'), undefined);
});
