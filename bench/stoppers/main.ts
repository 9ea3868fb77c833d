// npm run bench:stoppers — early discarding on recorded learning curves, in the plane of Egele et al. 2024 ("The
// Unreasonable Effectiveness of Early Discarding"): regret against steps consumed. Each seed streams the task's
// recorded configurations in a seeded random order through a policy until a step budget is spent; the regret of the
// model the search would hand over is read at budgets of B/10, B/3 and B, B = 100 configurations × maxSteps (what
// a search without stopping spends on 100 configurations). Then the old fixed-sample selection regret and the speed
// of the Bayesian curve fit.
// Options: --seeds N (20), --first-seed N (0), --budget-configs N (100), --budgets 1/10,1/3,1 (fractions of B), --workers N (runs in
// flight, 1), --selection-configs N (100; 0 skips that table), --policies a,b (first words of the policy names; no
// stopping is always included; `oracle` adds the diagnostic row of bench/stoppers/oracle.ts), --lce-options '{…};{…}'
// (extra LCE rows, named "lce+ …"), --curves FILE, --no-fit-speed.

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
import { CURVES_URL, loadCurves, type RecordedTask } from './curves.js';
import { PoolOracleLCStopper } from './oracle.js';
import { poolOptimum, replay, sampleOrder, type ReplayResult } from './replay.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    /** Seeds run are first-seed … first-seed + seeds − 1: fresh seeds check a choice made on the default ones. */
    'first-seed': { type: 'string', default: '0' },
    'budget-configs': { type: 'string', default: '100' },
    budgets: { type: 'string', default: '1/10,1/3,1' },
    'selection-configs': { type: 'string', default: '100' },
    policies: { type: 'string' },
    workers: { type: 'string', default: '1' },
    curves: { type: 'string' },
    'no-fit-speed': { type: 'boolean', default: false },
    /** Extra LCE rows: JSON objects of LCModelOptions separated by ';', e.g. '{"minObsToFitLcModel":10}'. */
    'lce-options': { type: 'string' },
  },
});
const numSeeds = Number(values.seeds);
const firstSeed = Number(values['first-seed']);
const budgetConfigs = Number(values['budget-configs']);
const numWorkers = Number(values.workers);
const selectionConfigs = Number(values['selection-configs']);

const data = loadCurves(values.curves ? new URL(values.curves, `file://${process.cwd()}/`) : CURVES_URL);
const maxSteps = data.maxSteps;
const fullBudget = budgetConfigs * maxSteps;
/** Budget fractions as written ("1/3") and as numbers. */
const fractions = values.budgets.split(',').map((text) => {
  const [num, den] = text.split('/').map(Number);
  const value = den === undefined ? num! : num! / den;
  if (!(value > 0)) throw new Error(`--budgets: ${JSON.stringify(text)} is not a positive fraction of B`);
  return { label: text === '1' ? 'B' : `B×${text}`.replace('B×1/', 'B/'), value };
});
const budgets = fractions.map((f) => Math.floor(f.value * fullBudget));
/** The budget of the headline check: the largest not above B/3. */
const checkIndex = budgets.reduce((best, b, i) => (b <= fullBudget / 3 && (best < 0 || b > budgets[best]!) ? i : best), -1);
const fullIndex = budgets.indexOf(fullBudget);

/** `diagnostic` rows run only when named in --policies. */
const policies: { name: string; make: (seed: number, task: RecordedTask) => Stopper; diagnostic?: boolean }[] = [
  { name: 'no stopping', make: () => new IdleStopper({ maxSteps }) },
  { name: 'constant i=1', make: () => new ConstantStopper({ maxSteps, stopStep: 1 }) },
  { name: 'constant i=3', make: () => new ConstantStopper({ maxSteps, stopStep: 3 }) },
  { name: 'constant i=10', make: () => new ConstantStopper({ maxSteps, stopStep: 10 }) },
  { name: 'sha', make: () => new SuccessiveHalvingStopper({ maxSteps }) },
  { name: 'median', make: () => new MedianStopper({ maxSteps }) },
  { name: 'lce', make: (seed) => new LCModelStopper({ maxSteps, seed }) },
  // The first fit waits for twice as many points as mmf4 has parameters: fitted on 4 points, 4 parameters leave no
  // residual to estimate the noise from, and the posterior is sure of a plateau too early (see docs/stoppers.md).
  { name: 'lce minObs=8', make: (seed) => new LCModelStopper({ maxSteps, seed, minObsToFitLcModel: 8 }) },
  // LCE's rule with the probability read off the pool's 25 nearest curves, their future included (bench/stoppers/oracle.ts).
  { name: 'oracle lce-rule', make: (seed, task) => new PoolOracleLCStopper({ maxSteps, seed }, task), diagnostic: true },
];
for (const text of values['lce-options']?.split(';') ?? []) {
  const extra = JSON.parse(text) as Partial<LCModelOptions>;
  // "lce+" so that `--policies lce+` replays the extra rows alone.
  policies.push({ name: `lce+ ${text}`, make: (seed) => new LCModelStopper({ maxSteps, seed, ...extra }) });
}
// No stopping is always replayed: it is the reference of the check.
const selected = values.policies
  ? policies.filter((p) => p.name === 'no stopping' || values.policies!.split(',').includes(p.name.split(' ')[0]!))
  : policies.filter((p) => !p.diagnostic);
const W = Math.max(16, ...selected.map((p) => p.name.length));

// ---- statistics -----------------------------------------------------------------------------------------------
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stderr = (xs: readonly number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length);
};
/** Linear-interpolation quantile (numpy's default). */
const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const p = (s.length - 1) * q;
  const lo = Math.floor(p);
  return s[lo]! + (s[Math.ceil(p)]! - s[lo]!) * (p - lo);
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f4(x)}`;

// ---- tables ---------------------------------------------------------------------------------------------------
function table(header: string[], rows: string[][], leftColumns = 1): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const cell = (text: string, c: number) => (c < leftColumns ? text.padEnd(widths[c]!) : text.padStart(widths[c]!));
  console.log(`| ${header.map(cell).join(' | ')} |`);
  console.log(`|${widths.map((w, c) => (c < leftColumns ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.map(cell).join(' | ')} |`);
}

/** Per policy, the replays of every (task, seed) pair in the order tasks × seeds. */
type Runs = Map<string, { task: string; result: ReplayResult }[]>;

function planeTable(runs: Runs, tasks: readonly string[]): void {
  const rows: string[][] = [];
  for (const [name, all] of runs) {
    const mine = all.filter((r) => tasks.includes(r.task));
    fractions.forEach((fraction, i) => {
      const shots = mine.map((r) => r.result.snapshots[i]!);
      const regrets = shots.map((s) => s.regret);
      rows.push([
        i === 0 ? name : '',
        fraction.label,
        (mean(shots.map((s) => s.stepsUsed)) / budgets[i]!).toFixed(3),
        mean(shots.map((s) => s.ended)).toFixed(0),
        f4(median(regrets)),
        `${f4(quantile(regrets, 0.25))}–${f4(quantile(regrets, 0.75))}`,
        `${f4(mean(regrets))} ± ${f4(stderr(regrets))}`,
      ]);
    });
  }
  table(['policy', 'budget', 'steps used / budget', 'configs ended', 'regret median', 'IQR', 'mean ± s.e.'], rows, 2);
}

/** One policy against the issue's target on some tasks: regret at ≤ B/3 steps vs no stopping's at B. */
interface Check {
  median: number;
  mean: number;
  medianRatio: number;
  meanRatio: number;
  /** Paired differences (same task, same seed) from no stopping's regret at B. */
  differences: number[];
  /** Both the median and the mean within 5% of no stopping's (or below). */
  ok: boolean;
  verdict: string;
}

function check(runs: Runs, name: string, tasks: readonly string[]): Check | undefined {
  const none = runs.get('no stopping')?.filter((r) => tasks.includes(r.task));
  const mine = runs.get(name)?.filter((r) => tasks.includes(r.task));
  if (!none || !mine || checkIndex < 0 || fullIndex < 0) return undefined;
  const noneRegrets = none.map((r) => r.result.snapshots[fullIndex]!.regret);
  const regrets = mine.map((r) => r.result.snapshots[checkIndex]!.regret);
  const m = median(regrets);
  const a = mean(regrets);
  const medianOk = m <= 1.05 * median(noneRegrets);
  const meanOk = a <= 1.05 * mean(noneRegrets);
  return {
    median: m,
    mean: a,
    medianRatio: m / median(noneRegrets),
    meanRatio: a / mean(noneRegrets),
    differences: regrets.map((x, i) => x - noneRegrets[i]!),
    ok: medianOk && meanOk,
    verdict: medianOk && meanOk ? 'yes' : medianOk ? 'median only' : meanOk ? 'mean only' : 'NO',
  };
}

/** The issue's target: regret at ≤ B/3 steps within 5% of (or below) no stopping's regret at B. */
function checkTable(runs: Runs, tasks: readonly string[]): void {
  const none = runs.get('no stopping')?.filter((r) => tasks.includes(r.task));
  if (!none || checkIndex < 0 || fullIndex < 0) return;
  const noneRegrets = none.map((r) => r.result.snapshots[fullIndex]!.regret);
  const rows: string[][] = [];
  for (const name of runs.keys()) {
    if (name === 'no stopping') continue;
    const c = check(runs, name, tasks)!;
    rows.push([name, f4(c.median), c.medianRatio.toFixed(2), f4(c.mean), c.meanRatio.toFixed(2), `${signed(mean(c.differences))} ± ${f4(1.96 * stderr(c.differences))}`, c.verdict]);
  }
  console.log(`\nno stopping at B: regret median ${f4(median(noneRegrets))}, mean ${f4(mean(noneRegrets))}; policies at ${fractions[checkIndex]!.label} = ${budgets[checkIndex]} steps:\n`);
  table(['policy', 'median', '÷ none', 'mean', '÷ none', 'Δ vs none (paired, 95%)', 'within 5% (≤ 1.05×)?'], rows);
}

/**
 * The verdict: a regret is a task's own quantity (each task has its own optimum and scale), so the target is read
 * per task — on every task, median and mean within 5% of no stopping's. The pooled check is printed beside it; its
 * median mixes two scales and jumps between them.
 */
function verdictTable(runs: Runs, tasks: readonly string[]): void {
  if (checkIndex < 0 || fullIndex < 0) return;
  const rows: string[][] = [];
  for (const name of runs.keys()) {
    if (name === 'no stopping') continue;
    const perTask = tasks.map((t) => check(runs, name, [t])!);
    const pooled = check(runs, name, tasks)!;
    const ratios = (c: Check) => `${c.medianRatio.toFixed(2)} / ${c.meanRatio.toFixed(2)}`;
    rows.push([name, ...perTask.map(ratios), perTask.every((c) => c.ok) ? 'yes' : 'NO', `${ratios(pooled)} ${pooled.verdict}`]);
  }
  console.log(`\n## verdict: regret at ${fractions[checkIndex]!.label} ÷ no stopping's at B (median / mean), within 5% on every task?\n`);
  table(['policy', ...tasks, 'every task', 'pooled (information)'], rows);
}

// ---- run ------------------------------------------------------------------------------------------------------
console.log(`# Early discarding on recorded curves (${data.tasks.map((t) => `${t.name}: ${t.curves.length} configs, best final test ${f4(poolOptimum(t))}`).join('; ')})`);
console.log(`# ${maxSteps} epochs max; B = ${budgetConfigs} configs × ${maxSteps} = ${fullBudget} steps; ${numSeeds} seeds (${firstSeed}…${firstSeed + numSeeds - 1}); ${numWorkers} worker(s); node ${process.version}; load ${loadavg()[0]!.toFixed(1)}`);
console.log('# regret = best FINAL test accuracy over the whole recorded pool − test accuracy of the chosen model AT THE STEP');
console.log('#   WHERE IT STOPPED (the model the search hands over); chosen = best objective the search kept among ended runs');
console.log('#   (its last validation accuracy, as the stopper reports it). Runs still in flight at a budget are not results.');

const runs: Runs = new Map();
const seconds = new Map<string, number>();
const orders = new Map<RecordedTask, number[][]>(data.tasks.map((task) => [task, Array.from({ length: numSeeds }, (_, k) => sampleOrder(task, firstSeed + k))]));
for (const policy of selected) {
  const list: { task: string; result: ReplayResult }[] = [];
  const started = performance.now();
  for (const task of data.tasks) {
    for (let seed = 0; seed < numSeeds; seed++) {
      const result = replay(task, orders.get(task)![seed]!, policy.make(firstSeed + seed, task), { budgets, workers: numWorkers, selectionConfigs });
      list.push({ task: task.name, result });
    }
  }
  seconds.set(policy.name, (performance.now() - started) / 1000);
  runs.set(policy.name, list);
}

const taskNames = data.tasks.map((t) => t.name);
for (const task of data.tasks) {
  console.log(`\n## ${task.name}: regret vs steps consumed (${numSeeds} seeds)\n`);
  planeTable(runs, [task.name]);
  checkTable(runs, [task.name]);
}
if (data.tasks.length > 1) {
  console.log(`\n## all tasks pooled: regret over the ${data.tasks.length} × ${numSeeds} task × seed pairs\n`);
  planeTable(runs, taskNames);
  checkTable(runs, taskNames);
}
verdictTable(runs, taskNames);

if (selectionConfigs > 0 && runs.get('no stopping')?.every((r) => r.result.selection)) {
  // The measure of the first benchmark: same 100 configurations for every policy, regret against the best of them.
  console.log(`\n## selection regret only (not the HPO regret): the first ${selectionConfigs} configurations of each order, every task × seed pair;`);
  console.log(`## regret = best final test among those ${selectionConfigs} − FINAL test accuracy of the chosen one (as if trained to the end)\n`);
  const none = runs.get('no stopping')!;
  const rows: string[][] = [];
  for (const [name, all] of runs) {
    if (!all.every((r) => r.result.selection)) continue;
    const steps = taskNames.map((t) => mean(all.filter((r) => r.task === t).map((r) => r.result.selection!.steps)) / mean(none.filter((r) => r.task === t).map((r) => r.result.selection!.steps)));
    const regrets = all.map((r) => r.result.selection!.regret);
    const d = regrets.map((x, i) => x - none[i]!.result.selection!.regret);
    rows.push([name, mean(steps).toFixed(3), `${f4(mean(regrets))} ± ${f4(stderr(regrets))}`, `${signed(mean(d))} ± ${f4(1.96 * stderr(d))}`]);
  }
  table(['policy', 'epochs vs none', 'regret (mean ± s.e.)', 'Δ vs none (paired, 95%)'], rows);
}

console.log(`\nreplay time, s: ${[...seconds].map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', ')}`);

if (!values['no-fit-speed']) {
  // Time of one Bayesian fit (least squares + adaptation + posterior draws) on real recorded curves.
  const families: CurveModelName[] = ['mmf4', 'pow3', 'exp4', 'janoschek4', 'weibull4', 'ilog2', 'hill3', 'logpow3', 'vapor3', 'lin2'];
  const curves = data.tasks.flatMap((t) => t.curves.slice(0, 10).map((c) => c.validation));
  console.log(`\n## Bayesian curve fit time per fit, ms of CPU (median, 90th percentile) and wall median, over ${curves.length} recorded curves\n`);
  const sizes = [10, 25, 50];
  const pad = (s: string, n: number) => s.padEnd(n);
  const lpad = (s: string, n: number) => s.padStart(n);
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
