// Replays recorded learning curves under a stopper, as a sequential random search would run them: each sampled
// configuration reports its validation score epoch by epoch until the stopper says stop. Pure: no clock, no I/O.

import { SeededRandom } from '../../client/learn/random.js';
import type { Stopper } from '../../client/stopper/types.js';
import type { RecordedTask } from './curves.js';

export interface ReplayResult {
  /** Epochs consumed by all runs together. */
  steps: number;
  /** Best final test score among the sampled configurations minus the final test score of the chosen one. */
  regret: number;
  /** Index (in the task) of the configuration the search would pick: best objective kept by the search. */
  chosen: number;
}

/** The configurations a seed samples, in the order the search tries them (the same for every policy). */
export function sampleOrder(task: RecordedTask, seed: number, count: number): number[] {
  const order = Array.from({ length: task.curves.length }, (_, i) => i);
  new SeededRandom(seed).shuffle(order);
  return order.slice(0, Math.min(count, order.length));
}

/**
 * Replay `order` under `stopper` with `workers` runs in flight: each tick, every busy worker trains one more epoch of
 * its run (in worker order) and reports it; a worker whose run ends takes the next configuration. One worker is a
 * sequential search; more interleave the reports as an asynchronous search would.
 */
export function replay(task: RecordedTask, order: readonly number[], stopper: Stopper, workers = 1): ReplayResult {
  let steps = 0;
  let chosen = order[0]!;
  let chosenObjective = -Infinity;
  let bestTest = -Infinity;
  let next = 0;
  const slots: ({ index: number; step: number } | null)[] = Array.from({ length: Math.max(1, workers) }, () => null);
  const take = () => (next < order.length ? { index: order[next++]!, step: 0 } : null);
  for (let w = 0; w < slots.length; w++) slots[w] = take();
  while (slots.some((s) => s !== null)) {
    for (let w = 0; w < slots.length; w++) {
      const run = slots[w];
      if (!run) continue;
      const curve = task.curves[run.index]!;
      const maxSteps = Math.min(stopper.maxSteps, curve.validation.length);
      const jobId = `c${run.index}`;
      run.step++;
      const value = curve.validation[run.step - 1]!;
      const decision = stopper.observe(jobId, run.step, value);
      if (!decision.stop && run.step < maxSteps) continue;
      stopper.complete(jobId);
      steps += run.step;
      const objective = stopper.objectiveOf?.(jobId) ?? value;
      if (objective > chosenObjective) {
        chosenObjective = objective;
        chosen = run.index;
      }
      bestTest = Math.max(bestTest, curve.test[curve.test.length - 1]!);
      slots[w] = take();
    }
  }
  const chosenTest = task.curves[chosen]!.test;
  return { steps, regret: bestTest - chosenTest[chosenTest.length - 1]!, chosen };
}
