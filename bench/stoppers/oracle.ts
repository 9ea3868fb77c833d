// A diagnostic, not a policy: LCE's rule (patience, IQR test, stop when P(value at maxSteps ≤ best) > probPromotion)
// with the probability read off the recorded pool instead of a curve fit: the share of the `neighbours` pool curves
// closest to the run's points so far (Euclidean distance over the same steps, the run itself excluded) whose value at
// maxSteps is ≤ best. It knows the future of every other configuration, so it tells what LCE's rule can reach with
// far more information than one curve's first points hold; no search can use it.

import { LCModelStopper, type LCModelOptions, type RunTrace } from '../../client/stopper/index.js';
import type { RecordedTask } from './curves.js';

export class PoolOracleLCStopper extends LCModelStopper {
  constructor(
    options: LCModelOptions,
    private readonly task: RecordedTask,
    private readonly neighbours = 25,
  ) {
    super(options);
  }

  protected override probabilityNoBetter(run: RunTrace, best: number): number {
    const self = Number(run.jobId.slice(1)); // replay's job ids are "c<index in the task>"
    const k = run.objectives.length;
    const near: { distance: number; final: number }[] = [];
    this.task.curves.forEach((curve, index) => {
      if (index === self || curve.validation.length < this.maxSteps) return;
      let distance = 0;
      for (let j = 0; j < k; j++) distance += (curve.validation[j]! - run.objectives[j]!) ** 2;
      near.push({ distance, final: curve.validation[this.maxSteps - 1]! });
    });
    near.sort((a, b) => a.distance - b.distance);
    const chosen = near.slice(0, this.neighbours);
    return chosen.length === 0 ? 0 : chosen.filter((c) => c.final <= best).length / chosen.length;
  }
}
