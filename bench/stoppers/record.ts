// Records real learning curves once: random MLP configurations trained on small seeded data sets, with the number
// of correct validation and test predictions after every epoch. Deterministic: `node dist/bench/stoppers/record.js`
// regenerates bench/stoppers/curves.json byte for byte. Options: --configs N (per task, default 1000), --epochs N
// (default 50), --tasks a,b (record only these), --out FILE.
// Each task has its own random stream (seeded from --seed and the task's position), so its data set and its first
// configurations do not depend on --configs or on the other tasks.
// Each task trains on 900 points and reports accuracy on 600 validation points (what the stopper and the search
// see) and on 1,500 held-out test points (only for the regret: one test point is 0.07% of accuracy).

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeDigits, makeSpirals, subset, trainValidationSplit, type Dataset } from '../../client/learn/datasets.js';
import { Mlp } from '../../client/learn/mlp.js';
import { SeededRandom } from '../../client/learn/random.js';
import { CURVES_FORMAT, CURVES_URL, type StoredCurves, type StoredTask } from './curves.js';
import { sampleConfig } from './space.js';

const { values } = parseArgs({
  options: {
    configs: { type: 'string', default: '1000' },
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

const recorded: StoredCurves = { format: CURVES_FORMAT, seed, maxSteps: epochs, tasks: [] };
const master = new SeededRandom(seed);
const taskSeeds = tasks.map(() => master.int(1 << 30));
const only = values.tasks?.split(',');
for (const [position, task] of tasks.entries()) {
  if (only && !only.includes(task.name)) continue;
  const taskSeed = taskSeeds[position]!;
  const rng = new SeededRandom(taskSeed);
  const dataSeed = rng.int(1 << 30);
  // 900 train, 600 validation (what the stopper sees), 1,500 test (only for the regret).
  const split = trainValidationSplit(task.make(dataSeed), { validationFraction: 0.7, seed: dataSeed });
  const validationSize = 600;
  const validation = subset(split.validation, Array.from({ length: validationSize }, (_, i) => i));
  const test = subset(split.validation, Array.from({ length: split.validation.size - validationSize }, (_, i) => validationSize + i));
  const out: StoredTask = {
    name: task.name,
    seed: taskSeed,
    dataset: { generator: task.generator, size: task.size, seed: dataSeed },
    validationSize,
    testSize: test.size,
    curves: [],
  };
  const started = performance.now();
  for (let c = 0; c < numConfigs; c++) {
    const config = sampleConfig(rng);
    const model = new Mlp({ train: split.train, validation }, config);
    const v: number[] = [];
    const t: number[] = [];
    for (let e = 0; e < epochs; e++) {
      // A diverged model scores NaN: count it as no correct prediction.
      v.push(Math.round((model.trainEpoch().validation.score || 0) * validationSize));
      t.push(Math.round((model.evaluate(test).score || 0) * test.size));
    }
    out.curves.push({ config, validation: v, test: t });
    if ((c + 1) % 50 === 0) console.error(`${task.name}: ${c + 1}/${numConfigs} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${task.name}: ${numConfigs} configurations × ${epochs} epochs in ${seconds.toFixed(1)} s`);
  recorded.tasks.push(out);
}

const target = values.out ? new URL(values.out, `file://${process.cwd()}/`) : CURVES_URL;
writeFileSync(target, JSON.stringify(recorded) + '\n');
console.log(`wrote ${target.pathname}`);
