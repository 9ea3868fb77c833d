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

export function replay(task: RecordedTask, order: readonly number[], stopper: Stopper): ReplayResult {
  let steps = 0;
  let chosen = order[0]!;
  let chosenObjective = -Infinity;
  let bestTest = -Infinity;
  for (const index of order) {
    const curve = task.curves[index]!;
    const maxSteps = Math.min(stopper.maxSteps, curve.validation.length);
    const jobId = `c${index}`;
    let step = 0;
    let lastValue = NaN;
    while (step < maxSteps) {
      step++;
      lastValue = curve.validation[step - 1]!;
      if (stopper.observe(jobId, step, lastValue).stop) break;
    }
    stopper.complete(jobId);
    steps += step;
    const objective = stopper.objectiveOf?.(jobId) ?? lastValue;
    if (objective > chosenObjective) {
      chosenObjective = objective;
      chosen = index;
    }
    bestTest = Math.max(bestTest, curve.test[curve.test.length - 1]!);
  }
  const chosenTest = task.curves[chosen]!.test;
  return { steps, regret: bestTest - chosenTest[chosenTest.length - 1]!, chosen };
}
