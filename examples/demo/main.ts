// npm run demo: an embedded local cluster, CBO tuning a small neural network trained inside each evaluation,
// successive halving discarding bad runs early, a live progress line, the best configuration, and
// runs/demo/{results.csv, journal.jsonl, objective.svg}.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init, shutdown } from '../../client/index.js';
import { Evaluator } from '../../client/evaluator/index.js';
import { CBO, HpProblem } from '../../client/hpo/index.js';
import { plotSearchTrajectory, ProgressCallback, runSearch } from '../../client/search/index.js';
import { SuccessiveHalvingStopper } from '../../client/stopper/index.js';
import { EPOCHS } from './train.js';

const MAX_EVALS = Number(process.env.DEMO_MAX_EVALS ?? 80);
const WORKERS = 2;
const logDir = resolve(process.env.DEMO_LOG_DIR ?? 'runs/demo');

const problem = new HpProblem()
  .add('units', [8, 64])
  .add('layers', [1, 3])
  .add('activation', ['relu', 'tanh', 'gelu'])
  .add('lr', [1e-4, 0.1, 'log-uniform'])
  .add('batch_size', [16, 128]);

const started = Date.now();
const cluster = await init({ address: 'local', numCpus: WORKERS, logToDriver: true });
console.log(`local cluster at ${cluster.address}; tuning an MLP on the spirals data set (${MAX_EVALS} evaluations, ${WORKERS} workers)`);
const evaluator = await Evaluator.create(new URL('./train.js', import.meta.url), 'train', { method: 'cluster', numWorkers: WORKERS });
try {
  const stopper = new SuccessiveHalvingStopper({ minSteps: 1, maxSteps: EPOCHS, reductionFactor: 3 });
  const search = new CBO(problem, { seed: 42 });
  const results = await runSearch(search, evaluator, {
    maxEvals: MAX_EVALS,
    logDir,
    stopper,
    callbacks: [new ProgressCallback({ stream: process.stdout, intervalMs: 1000 })],
  });
  const best = results.best();
  const epochs = results.evaluations.reduce((n, e) => n + (e.budget ?? 0), 0);
  writeFileSync(join(logDir, 'objective.svg'), plotSearchTrajectory(results.evaluations, { title: 'CBO on spirals: validation accuracy', yLabel: 'validation accuracy' }));
  console.log(`best validation accuracy ${best ? (best.objective as number).toFixed(4) : 'none'} (job ${best?.id})`);
  console.log(`best configuration ${JSON.stringify(best?.parameters)}`);
  console.log(`${results.evaluations.filter((e) => e.stopped).length} of ${results.length} runs stopped early; ${epochs} epochs trained of ${results.length * EPOCHS} without stopping`);
  console.log(`results: ${join(logDir, 'results.csv')}, plot: ${join(logDir, 'objective.svg')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} finally {
  await evaluator.close();
  await shutdown();
}
