// The run function of the demo: trains a small MLP on the three-arm spirals data set (generated, seeded) and
// reports the validation accuracy after each epoch, so that a stopper can end unpromising runs early.
import type { RunningJob } from '../../client/evaluator/index.js';
import { makeSpirals, Mlp, trainValidationSplit, type Activation, type TrainValidation } from '../../client/learn/index.js';

export const EPOCHS = 20;
let data: TrainValidation | undefined;

export async function train(job: RunningJob): Promise<{ objective: number; metadata: Record<string, unknown> }> {
  // Generated once per worker process and reused across evaluations.
  data ??= trainValidationSplit(makeSpirals({ size: 1200, seed: 1 }), { seed: 1 });
  const p = job.parameters;
  const model = new Mlp(data, {
    hiddenUnits: p.units as number,
    layers: p.layers as number,
    activation: p.activation as Activation,
    learningRate: p.lr as number,
    batchSize: p.batch_size as number,
    seed: 7,
  });
  let score = 0;
  let epoch = 0;
  while (epoch < EPOCHS) {
    score = model.trainEpoch().validation.score;
    epoch++;
    await job.record(epoch, score);
    if (job.stopped()) break;
  }
  return { objective: score, metadata: { epochs: epoch } };
}
