// npm run bench:stoppers — early discarding on recorded learning curves (Egele et al. 2024, "The Unreasonable
// Effectiveness of Early Discarding"): for each policy, epochs consumed and regret of the final choice over 10
// seeds, then the speed of the Bayesian curve fit. Options: --seeds N, --configs N, --workers N (runs in flight,
// default 1), --policies a,b (first words of the policy names), --no-fit-speed.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ConstantStopper,
  IdleStopper,
  LCModelStopper,
  MedianStopper,
  SuccessiveHalvingStopper,
  curveModel,
  fitBayesianCurve,
  type CurveModelName,
  type LCModelOptions,
  type Stopper,
} from '../../client/stopper/index.js';
import { CURVES_URL, type RecordedCurves } from './curves.js';
import { replay, sampleOrder } from './replay.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    configs: { type: 'string', default: '100' },
    policies: { type: 'string' },
    workers: { type: 'string', default: '1' },
    'no-fit-speed': { type: 'boolean', default: false },
    /** Extra LCE rows: JSON objects of LCModelOptions separated by ';', e.g. '{"minObsToFitLcModel":10}'. */
    'lce-options': { type: 'string' },
  },
});
const numSeeds = Number(values.seeds);
const numConfigs = Number(values.configs);
const numWorkers = Number(values.workers);

const data = JSON.parse(readFileSync(CURVES_URL, 'utf8')) as RecordedCurves;
const maxSteps = data.maxSteps;

const policies: { name: string; make: (seed: number) => Stopper }[] = [
  { name: 'no stopping', make: () => new IdleStopper({ maxSteps }) },
  { name: 'constant i=1', make: () => new ConstantStopper({ maxSteps, stopStep: 1 }) },
  { name: 'constant i=3', make: () => new ConstantStopper({ maxSteps, stopStep: 3 }) },
  { name: 'constant i=10', make: () => new ConstantStopper({ maxSteps, stopStep: 10 }) },
  { name: 'sha', make: () => new SuccessiveHalvingStopper({ maxSteps }) },
  { name: 'median', make: () => new MedianStopper({ maxSteps }) },
  { name: 'lce', make: (seed) => new LCModelStopper({ maxSteps, seed }) },
  // DeepHyper's early_stopping_patience raised from a quarter to half of maxSteps: a converged run is no longer cut
  // at a noisy dip (see docs/stoppers.md).
  { name: 'lce patience=0.5', make: (seed) => new LCModelStopper({ maxSteps, seed, earlyStoppingPatience: 0.5 }) },
];
for (const text of values['lce-options']?.split(';') ?? []) {
  const extra = JSON.parse(text) as Partial<LCModelOptions>;
  policies.push({ name: `lce ${text}`, make: (seed) => new LCModelStopper({ maxSteps, seed, ...extra }) });
}
const selected = values.policies ? policies.filter((p) => values.policies!.split(',').includes(p.name.split(' ')[0]!)) : policies;
const W = Math.max(13, ...selected.map((p) => p.name.length));

interface Row {
  steps: number[];
  regret: number[];
  seconds: number;
}
/** Paired difference of two per-(task, seed) series: mean and half-width of a 95% normal interval. */
const pairedDifference = (a: number[], b: number[]) => {
  const d = a.map((v, i) => v - b[i]!);
  return { mean: mean(d), halfWidth: 1.96 * stderr(d) };
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stderr = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length);
};
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

console.log(`# Early discarding on recorded curves (${data.tasks.map((t) => `${t.name}: ${t.curves.length} configs`).join(', ')};`);
console.log(`# ${maxSteps} epochs max; ${numConfigs} configs sampled per seed, ${numSeeds} seeds, ${numWorkers} worker(s); node ${process.version}; load ${loadavg()[0]!.toFixed(1)})`);
console.log('# regret = best final test accuracy among the sampled configs − final test accuracy of the chosen one');

const summary = new Map<string, { stepsRatio: number[]; regret: number[] }>();
for (const task of data.tasks) {
  const rows = new Map<string, Row>();
  for (const policy of selected) {
    const row: Row = { steps: [], regret: [], seconds: 0 };
    const started = performance.now();
    for (let seed = 0; seed < numSeeds; seed++) {
      const result = replay(task, sampleOrder(task, seed, numConfigs), policy.make(seed), numWorkers);
      row.steps.push(result.steps);
      row.regret.push(result.regret);
    }
    row.seconds = (performance.now() - started) / 1000;
    rows.set(policy.name, row);
  }
  const base = rows.get('no stopping');
  console.log(`\n## ${task.name}\n`);
  console.log(`| ${pad('policy', W)} | ${lpad('epochs', 7)} | ${lpad('vs none', 7)} | ${lpad('regret (mean ± s.e.)', 20)} | ${lpad('replay s', 8)} |`);
  console.log(`|${'-'.repeat(W + 2)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(22)}|${'-'.repeat(10)}|`);
  for (const [name, row] of rows) {
    const steps = mean(row.steps);
    const ratio = base ? steps / mean(base.steps) : NaN;
    const regret = `${mean(row.regret).toFixed(4)} ± ${stderr(row.regret).toFixed(4)}`;
    console.log(`| ${pad(name, W)} | ${lpad(steps.toFixed(0), 7)} | ${lpad(ratio.toFixed(3), 7)} | ${lpad(regret, 20)} | ${lpad(row.seconds.toFixed(1), 8)} |`);
    const s = summary.get(name) ?? { stepsRatio: [], regret: [] };
    s.stepsRatio.push(ratio);
    s.regret.push(...row.regret);
    summary.set(name, s);
  }
}

if (data.tasks.length > 1 && summary.has('no stopping')) {
  const none = summary.get('no stopping')!.regret;
  const noneRegret = mean(none);
  console.log(`\n## all tasks (mean of epoch ratios; regret over all task × seed pairs; Δ paired by task × seed, 95% interval)\n`);
  console.log(`| ${pad('policy', W)} | ${lpad('vs none', 7)} | ${lpad('regret', 7)} | ${lpad('Δ regret vs none', 20)} |`);
  console.log(`|${'-'.repeat(W + 2)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(22)}|`);
  for (const [name, s] of summary) {
    const d = pairedDifference(s.regret, none);
    const delta = `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(4)} ± ${d.halfWidth.toFixed(4)}`;
    console.log(`| ${pad(name, W)} | ${lpad(mean(s.stepsRatio).toFixed(3), 7)} | ${lpad(mean(s.regret).toFixed(4), 7)} | ${lpad(delta, 20)} |`);
  }
  // "Within 5%" read two ways: regret at most 1.05 × the no-stopping regret (strict: it needs the test set to
  // resolve differences far below the baseline regret), and the extra regret at most 5% of the mean best test accuracy.
  const bestTest = mean(
    data.tasks.flatMap((task) =>
      Array.from({ length: numSeeds }, (_, seed) => Math.max(...sampleOrder(task, seed, numConfigs).map((i) => task.curves[i]!.test[maxSteps - 1]!))),
    ),
  );
  for (const name of ['sha', ...[...summary.keys()].filter((name) => name.startsWith('lce'))]) {
    const s = summary.get(name);
    if (!s) continue;
    const r = mean(s.regret);
    const ratio = mean(s.stepsRatio);
    const d = pairedDifference(s.regret, none);
    console.log(
      `target ${name}: epochs ≤ 1/3 of none: ${ratio <= 1 / 3 ? 'yes' : 'NO'} (${ratio.toFixed(3)}); ` +
        `regret ≤ 1.05 × none: ${r <= noneRegret * 1.05 ? 'yes' : 'NO'} (${r.toFixed(4)} vs ${noneRegret.toFixed(4)}, Δ ${d.mean.toFixed(4)} ± ${d.halfWidth.toFixed(4)}); ` +
        `extra regret ≤ 5% of best accuracy ${bestTest.toFixed(3)}: ${d.mean <= 0.05 * bestTest ? 'yes' : 'NO'} (${((100 * d.mean) / bestTest).toFixed(2)}%)`,
    );
  }
}

if (!values['no-fit-speed']) {
  // Time of one Bayesian fit (least squares + 200 warm-up + 1000 posterior samples) on real recorded curves.
  const families: CurveModelName[] = ['mmf4', 'pow3', 'exp4', 'janoschek4', 'weibull4', 'ilog2', 'hill3', 'logpow3', 'vapor3', 'lin2'];
  const curves = data.tasks.flatMap((t) => t.curves.slice(0, 10).map((c) => c.validation));
  console.log(`\n## Bayesian curve fit time per fit, ms of CPU (median, 90th percentile) and wall median, over ${curves.length} recorded curves\n`);
  const sizes = [10, 25, 50];
  console.log(`| ${pad('model', 10)} | ${sizes.map((n) => lpad(`n=${n} cpu`, 12) + ' | ' + lpad(`cpu p90`, 9) + ' | ' + lpad('wall', 6)).join(' | ')} |`);
  console.log(`|${'-'.repeat(12)}|${sizes.map(() => `${'-'.repeat(14)}|${'-'.repeat(11)}|${'-'.repeat(8)}`).join('|')}|`);
  for (const name of families) {
    const model = curveModel(name)!;
    const cells: string[] = [];
    for (const n of sizes) {
      const z = Array.from({ length: n }, (_, i) => i + 1);
      fitBayesianCurve(model, z, curves[0]!.slice(0, n), 0); // warm the JIT
      const cpu: number[] = [];
      const wall: number[] = [];
      curves.forEach((y, i) => {
        const started = performance.now();
        const startedCpu = process.cpuUsage();
        fitBayesianCurve(model, z, y.slice(0, n), i);
        const used = process.cpuUsage(startedCpu);
        cpu.push((used.user + used.system) / 1000);
        wall.push(performance.now() - started);
      });
      cpu.sort((a, b) => a - b);
      wall.sort((a, b) => a - b);
      const at = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))]!.toFixed(1);
      cells.push(lpad(at(cpu, 0.5), 12) + ' | ' + lpad(at(cpu, 0.9), 9) + ' | ' + lpad(at(wall, 0.5), 6));
    }
    console.log(`| ${pad(name, 10)} | ${cells.join(' | ')} |`);
  }
}
