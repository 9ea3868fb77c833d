// Records real learning curves once: random MLP configurations trained on small seeded data sets, with the
// validation and test accuracy after every epoch. Deterministic: `node dist/bench/stoppers/record.js` regenerates
// bench/stoppers/curves.json byte for byte. Options: --configs N (per task, default 250), --epochs N (default 50),
// --tasks a,b (record only these), --out FILE.
// Each task trains on 900 points and reports accuracy on 600 validation points (what the stopper and the search
// see) and on 1,500 held-out test points (only for the regret: one test point is 0.07% of accuracy, so the regret
// is not decided by a single sample).

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeDigits, makeSpirals, subset, trainValidationSplit, type Dataset } from '../../client/learn/datasets.js';
import { Mlp } from '../../client/learn/mlp.js';
import { SeededRandom } from '../../client/learn/random.js';
import { CURVES_URL, type RecordedCurves, type RecordedTask } from './curves.js';
import { sampleConfig } from './space.js';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: '250' },
    epochs: { type: 'string', default: '50' },
    seed: { type: 'string', default: '2024' },
    out: { type: 'string' },
    tasks: { type: 'string' },
  },
});
const numConfigs = Number(values.configs);
const epochs = Number(values.epochs);
const seed = Number(values.seed);

const tasks: { name: string; generator: string; size: number; make: (seed: number) => Dataset }[] = [
  { name: 'spirals', generator: 'makeSpirals', size: 3000, make: (s) => makeSpirals({ size: 3000, seed: s }) },
  { name: 'digits', generator: 'makeDigits', size: 3000, make: (s) => makeDigits({ size: 3000, seed: s }) },
];

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0);

const recorded: RecordedCurves = { format: 'deephyper-ts/stopper-curves@1', seed, maxSteps: epochs, tasks: [] };
const rng = new SeededRandom(seed);
const only = values.tasks?.split(',');
for (const task of tasks) {
  const dataSeed = rng.int(1 << 30);
  // --tasks (for the reproducibility test): later tasks' curves then differ, as with another --configs.
  if (only && !only.includes(task.name)) continue;
  // 900 train, 600 validation (what the stopper sees), 1,500 test (only for the regret).
  const split = trainValidationSplit(task.make(dataSeed), { validationFraction: 0.7, seed: dataSeed });
  const numValidation = 600;
  const validation = subset(split.validation, Array.from({ length: numValidation }, (_, i) => i));
  const test = subset(split.validation, Array.from({ length: split.validation.size - numValidation }, (_, i) => numValidation + i));
  const out: RecordedTask = { name: task.name, dataset: { generator: task.generator, size: task.size, seed: dataSeed }, curves: [] };
  const started = performance.now();
  for (let c = 0; c < numConfigs; c++) {
    const config = sampleConfig(rng);
    const model = new Mlp({ train: split.train, validation }, config);
    const v: number[] = [];
    const t: number[] = [];
    for (let e = 0; e < epochs; e++) {
      v.push(round(model.trainEpoch().validation.score));
      t.push(round(model.evaluate(test).score));
    }
    out.curves.push({ config, validation: v, test: t });
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${task.name}: ${numConfigs} configurations × ${epochs} epochs in ${seconds.toFixed(1)} s`);
  recorded.tasks.push(out);
}

const target = values.out ? new URL(values.out, `file://${process.cwd()}/`) : CURVES_URL;
writeFileSync(target, JSON.stringify(recorded) + '\n');
console.log(`wrote ${target.pathname}`);
