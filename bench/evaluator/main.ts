// npm run bench:evaluator
// 1. Overhead per evaluation of each backend: a no-op objective, 8 workers, 8 evaluations always in flight.
// 2. Utilization of 1,024 simulated workers on a simulated clock, the search's real compute time charged to it.
// 3. Time of one CBO ask(q) after 500 told evaluations: what the loop pays when q workers free up at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, shutdown } from '../../client/index.js';
import { Evaluator, type EvaluatorMethod } from '../../client/evaluator/index.js';
import { CBO, HpProblem, RandomSearch, type AskTellOptimizer } from '../../client/hpo/index.js';
import { runSearch } from '../../client/search/index.js';
import { SimulatedEvaluator } from './simulated.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const RUNS = Number(args.get('runs') ?? 3);
const NOOP = new URL('./noop.js', import.meta.url);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map((r) => line(r.map(String)))].join('\n');
}

/** Seconds per evaluation with `inFlight` evaluations always submitted. */
async function overhead(evaluator: Evaluator, evaluations: number, inFlight: number): Promise<number> {
  let submitted = 0;
  let done = 0;
  const submitOne = () => evaluator.submit([{ id: String(submitted), parameters: { x: submitted++ } }]);
  // Warm-up: start every worker first.
  for (let i = 0; i < inFlight; i++) submitOne();
  while (done < inFlight) done += (await evaluator.gather()).length;
  submitted = 0;
  done = 0;
  const start = performance.now();
  for (let i = 0; i < inFlight; i++) submitOne();
  while (done < evaluations) {
    const got = (await evaluator.gather()).length;
    done += got;
    for (let i = 0; i < got && submitted < evaluations; i++) submitOne();
  }
  return (performance.now() - start) / 1000 / evaluations;
}

async function overheadTable(): Promise<string> {
  const counts: Record<EvaluatorMethod, number> = { serial: 20_000, thread: 5_000, process: 5_000, cluster: 1_000 };
  const rows: (string | number)[][] = [];
  await init({ address: 'local', numCpus: 8, logToDriver: false });
  try {
    for (const method of ['serial', 'thread', 'process', 'cluster'] as EvaluatorMethod[]) {
      const samples: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const evaluator = await Evaluator.create(NOOP, 'noop', { method, numWorkers: 8, execArgv: [] });
        samples.push(await overhead(evaluator, counts[method], 8));
        await evaluator.close();
      }
      const s = median(samples);
      rows.push([method, counts[method], (s * 1e6).toFixed(1), Math.round(1 / s), samples.map((x) => (x * 1e6).toFixed(0)).join(' / ')]);
      process.stderr.write(`overhead ${method}: ${(s * 1e6).toFixed(1)} us\n`);
    }
  } finally {
    await shutdown();
  }
  return table(['backend', 'evaluations', 'median us / evaluation', 'evaluations / s', `runs (us)`], rows);
}

/** The search loop's own cost per evaluation (serial backend, no-op objective), with and without the journal. */
async function loopTable(): Promise<string> {
  const problem = new HpProblem().add('x', [0, 1_000_000]);
  const rows: (string | number)[][] = [];
  for (const journal of [false, true]) {
    const samples: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const dir = mkdtempSync(join(tmpdir(), 'dhts-bench-'));
      const evaluator = await Evaluator.create(async (job) => job.parameters.x as number, { numWorkers: 8 });
      const n = 3000;
      const start = performance.now();
      await runSearch(new RandomSearch(problem, { seed: r }), evaluator, { maxEvals: n, logDir: journal ? dir : undefined, csvIntervalMs: 1000 });
      samples.push((performance.now() - start) / 1000 / n);
      await evaluator.close();
      rmSync(dir, { recursive: true, force: true });
    }
    rows.push([journal ? 'journal (fsync per gather) + results.csv' : 'no log dir', (median(samples) * 1e6).toFixed(1)]);
  }
  return table(['search loop, RandomSearch, serial no-op, 8 workers', 'median us / evaluation'], rows);
}

interface SimRow {
  name: string;
  make: (problem: HpProblem, seed: number) => AskTellOptimizer;
}

async function utilizationTable(): Promise<string> {
  const workers = Number(args.get('workers') ?? 1024);
  const horizon = Number(args.get('horizon') ?? 240); // simulated seconds: four mean durations
  const problem = new HpProblem();
  for (let i = 0; i < 5; i++) problem.add(`x${i}`, [-32.768, 32.768]);
  const ackley = (p: Record<string, unknown>) => {
    const x = [0, 1, 2, 3, 4].map((i) => p[`x${i}`] as number);
    const a = -20 * Math.exp(-0.2 * Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 5));
    const b = -Math.exp(x.reduce((s, v) => s + Math.cos(2 * Math.PI * v), 0) / 5);
    return -(a + b + 20 + Math.E);
  };
  const variants: SimRow[] = [
    { name: 'RandomSearch', make: (p, seed) => new RandomSearch(p, { seed }) },
    { name: 'CBO (defaults)', make: (p, seed) => new CBO(p, { seed }) },
    { name: 'CBO qUCBd', make: (p, seed) => new CBO(p, { seed, multiPointStrategy: 'qUCBd' }) },
  ];
  const rows: (string | number)[][] = [];
  const pick = args.get('variant'); // e.g. --variant=qUCBd runs only the rows whose name contains it
  for (const v of variants.filter((x) => pick === undefined || x.name.includes(pick))) {
    const utils: number[] = [];
    let evals = 0;
    let real = 0;
    let best = -Infinity;
    for (let r = 0; r < RUNS; r++) {
      let state = (r + 1) * 7919;
      const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
      const sim = new SimulatedEvaluator({ numWorkers: workers, duration: () => 30 + 60 * random(), objective: (spec) => ackley(spec.parameters) });
      const dir = mkdtempSync(join(tmpdir(), 'dhts-sim-'));
      const start = performance.now();
      const results = await runSearch(v.make(problem, r), sim, {
        logDir: dir,
        callbacks: [{ onGather: () => (sim.now >= horizon ? 'simulated-horizon' : undefined) }],
      });
      real += (performance.now() - start) / 1000;
      rmSync(dir, { recursive: true, force: true });
      utils.push(sim.utilization());
      evals += results.length;
      best = Math.max(best, (results.best()?.objective as number) ?? -Infinity);
      process.stderr.write(`${v.name} run ${r}: utilization ${(sim.utilization() * 100).toFixed(2)}%, ${results.length} evaluations, ${(sim.charged).toFixed(1)} s charged\n`);
    }
    rows.push([v.name, `${(median(utils) * 100).toFixed(2)}%`, Math.round(evals / RUNS), (real / RUNS).toFixed(1), best.toFixed(3)]);
  }
  return table([`${workers} simulated workers, ${horizon} simulated s, durations U[30, 90] s`, 'median utilization', 'evaluations / run', 'real s / run (charged)', 'best objective (Ackley 5-D, max 0)'], rows);
}

function ackley5(p: Record<string, unknown>): number {
  const x = [0, 1, 2, 3, 4].map((i) => p[`x${i}`] as number);
  const a = -20 * Math.exp(-0.2 * Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 5));
  const b = -Math.exp(x.reduce((s, v) => s + Math.cos(2 * Math.PI * v), 0) / 5);
  return -(a + b + 20 + Math.E);
}

async function askTable(): Promise<string> {
  const problem = new HpProblem();
  for (let i = 0; i < 5; i++) problem.add(`x${i}`, [-32.768, 32.768]);
  const told = 500;
  const history = new RandomSearch(problem, { seed: 7 }).ask(told).map((config) => ({ config, objective: ackley5(config) }));
  const rows: (string | number)[][] = [];
  for (const [name, strategy] of [['CBO (cl_max)', 'cl_max'], ['CBO qUCBd', 'qUCBd']] as const) {
    const row: (string | number)[] = [name];
    for (const q of [1, 16, 128, 1024]) {
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const cbo = new CBO(problem, { seed: r, multiPointStrategy: strategy });
        cbo.tell(history);
        const start = performance.now();
        cbo.ask(q);
        ms.push(performance.now() - start);
      }
      row.push(`${median(ms).toFixed(0)} ms (${(median(ms) / q).toFixed(2)} ms/point)`);
    }
    rows.push(row);
  }
  return table([`Ackley 5-D, ${told} told, median of ${RUNS}`, 'ask(1)', 'ask(16)', 'ask(128)', 'ask(1024)'], rows);
}

const only = args.get('only');
const out: string[] = [];
if (!only || only === 'overhead') out.push('## Overhead per evaluation (no-op objective, 8 workers)\n\n' + (await overheadTable()));
if (!only || only === 'loop') out.push('## Search loop cost per evaluation\n\n' + (await loopTable()));
if (!only || only === 'ask') out.push('## Time of one CBO ask(q)\n\n' + (await askTable()));
if (!only || only === 'utilization') out.push('## Worker utilization on a simulated clock\n\n' + (await utilizationTable()));
console.log(out.join('\n\n'));
