// Replays recorded learning curves under a stopper, as a random search with a step budget would run them: each
// configuration, in a seeded random order without replacement, reports its validation score epoch by epoch until
// the stopper says stop; then the next one starts, until the budget of steps (epochs, all runs together) is spent
// or the pool is exhausted. Pure: no clock, no I/O.

import { SeededRandom } from '../../client/learn/random.js';
import type { Stopper } from '../../client/stopper/types.js';
import type { RecordedTask } from './curves.js';

/** The state of the search when `budget` steps had been consumed (or when the pool ran out before). */
export interface Snapshot {
  budget: number;
  /** Steps consumed when the snapshot was taken: `budget`, or less when every configuration of the pool ended. */
  stepsUsed: number;
  /** Configurations started and ended so far; a run still in flight at the budget is not a result. */
  started: number;
  ended: number;
  /** Index (in the task) of the chosen run: the best objective the search kept among the ended runs (−1: none). */
  chosen: number;
  /** Step at which the chosen run stopped, and the test accuracy of the model at that step (what you have). */
  chosenStep: number;
  chosenTest: number;
  /** Best final test accuracy over the whole recorded pool minus `chosenTest` (NaN when no run ended). */
  regret: number;
}

/** The old, fixed-sample measure: only the first `configs` configurations of the order, regret among them. */
export interface SelectionResult {
  configs: number;
  /** Steps those configurations consumed. */
  steps: number;
  /** Best final test accuracy among them minus the FINAL test accuracy of the chosen one (trained to the end). */
  regret: number;
  chosen: number;
}

export interface ReplayResult {
  snapshots: Snapshot[];
  /** Present when `selectionConfigs` was given and the pool holds that many configurations. */
  selection?: SelectionResult;
}

export interface ReplayOptions {
  /** Step budgets at which to take a snapshot; the replay ends at the largest. */
  budgets: readonly number[];
  /** Runs in flight (default 1: a sequential search). */
  workers?: number;
  /** Also measure the fixed-sample selection regret of the first N configurations of the order. */
  selectionConfigs?: number;
}

/** A seed's order of the whole pool (the same for every policy, so policies are compared on the same draws). */
export function sampleOrder(task: RecordedTask, seed: number, count = task.curves.length): number[] {
  const order = Array.from({ length: task.curves.length }, (_, i) => i);
  new SeededRandom(seed).shuffle(order);
  return order.slice(0, Math.min(count, order.length));
}

/** The known optimum of a task: the best final test accuracy over its whole recorded pool. */
export function poolOptimum(task: RecordedTask): number {
  return Math.max(...task.curves.map((c) => c.test[c.test.length - 1]!));
}

/**
 * Replay `order` under `stopper` with `workers` runs in flight: each tick, every busy worker trains one more epoch of
 * its run (in worker order) and reports it; a worker whose run ends takes the next configuration. One worker is a
 * sequential search; more interleave the reports as an asynchronous search would. The budget is checked before
 * every step, so a snapshot sees exactly `budget` steps consumed (runs cut by it are not results, as when a search
 * times out).
 */
export function replay(task: RecordedTask, order: readonly number[], stopper: Stopper, options: ReplayOptions): ReplayResult {
  const budgets = [...options.budgets].sort((a, b) => a - b);
  const maxBudget = budgets[budgets.length - 1] ?? 0;
  const optimum = poolOptimum(task);
  const selectionSize = options.selectionConfigs ?? 0;
  const selection = selectionSize > 0 && selectionSize <= order.length ? { ended: 0, steps: 0, chosen: -1, objective: -Infinity } : undefined;

  let steps = 0;
  let started = 0;
  let ended = 0;
  let chosen = -1;
  let chosenObjective = -Infinity;
  let chosenStep = 0;
  const snapshots: Snapshot[] = [];
  const snapshot = (budget: number): Snapshot => {
    const chosenTest = chosen < 0 ? NaN : task.curves[chosen]!.test[chosenStep - 1]!;
    return { budget, stepsUsed: steps, started, ended, chosen, chosenStep, chosenTest, regret: optimum - chosenTest };
  };

  const slots: ({ position: number; index: number; step: number } | null)[] = Array.from({ length: Math.max(1, options.workers ?? 1) }, () => null);
  const take = () => (started < order.length ? { position: started, index: order[started++]!, step: 0 } : null);
  for (let w = 0; w < slots.length; w++) slots[w] = take();
  const selectionPending = () => selection !== undefined && selection.ended < selectionSize;

  while (slots.some((s) => s !== null) && (steps < maxBudget || selectionPending())) {
    for (let w = 0; w < slots.length; w++) {
      const run = slots[w];
      if (!run) continue;
      // Past the largest budget only the first `selectionSize` configurations still run (to finish the selection).
      if (steps >= maxBudget && !(selection && run.position < selectionSize)) {
        slots[w] = null;
        continue;
      }
      const curve = task.curves[run.index]!;
      const maxSteps = Math.min(stopper.maxSteps, curve.validation.length);
      const jobId = `c${run.index}`;
      run.step++;
      steps++;
      const value = curve.validation[run.step - 1]!;
      const decision = stopper.observe(jobId, run.step, value);
      if (decision.stop || run.step >= maxSteps) {
        stopper.complete(jobId);
        const objective = stopper.objectiveOf?.(jobId) ?? value;
        if (steps <= maxBudget) {
          ended++;
          if (objective > chosenObjective) {
            chosenObjective = objective;
            chosen = run.index;
            chosenStep = run.step;
          }
        }
        if (selection && run.position < selectionSize) {
          selection.ended++;
          selection.steps += run.step;
          if (objective > selection.objective) {
            selection.objective = objective;
            selection.chosen = run.index;
          }
        }
        slots[w] = steps < maxBudget || selectionPending() ? take() : null;
      }
      while (snapshots.length < budgets.length && steps >= budgets[snapshots.length]!) snapshots.push(snapshot(budgets[snapshots.length]!));
    }
  }
  // The pool ran out before the remaining budgets.
  while (snapshots.length < budgets.length) snapshots.push(snapshot(budgets[snapshots.length]!));

  const result: ReplayResult = { snapshots };
  if (selection && selection.chosen >= 0) {
    const finalTest = (i: number) => task.curves[i]!.test[task.curves[i]!.test.length - 1]!;
    const best = Math.max(...order.slice(0, selectionSize).map(finalTest));
    result.selection = { configs: selectionSize, steps: selection.steps, regret: best - finalTest(selection.chosen), chosen: selection.chosen };
  }
  return result;
}
