// npm run bench:search [-- --quick] [--seeds N] [--only f1,f2] [--no-quality] [--no-overhead]
// Quality: regret after 200 sequential evaluations, median [IQR] over seeds, CBO vs random search, beside DeepHyper's
// CBO (shared/reference/search-quality.md). Overhead: one ask+tell of 1 and of 8 points with n evaluated points,
// beside DeepHyper (shared/reference/search-overhead.md).
import { performance } from 'node:perf_hooks';
import { CBO, RandomSearch, HpProblem, Rng, type Config } from '../../client/hpo/index.js';
import { TEST_FUNCTIONS, type TestFunction } from './functions.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('quick') || process.env.BENCH_QUICK === '1';
const nSeeds = Number(value('seeds') ?? (quick ? 3 : 10));
const only = value('only')?.split(',');
const EVALS = Number(value('evals') ?? 200);

/** DeepHyper 0.13.2 CBO, regret after 200 evaluations: median [q1, q3] (n = 5 seeds), from search-quality.md. */
const DEEPHYPER_CBO: Record<string, [number, number, number]> = {
  ackley5: [1.817, 1.81, 1.86],
  branin: [1.807e-6, 7.85e-7, 4.82e-6],
  griewank5: [0.6051, 0.564, 0.859],
  hartmann6: [0.1199, 0.00678, 0.12],
  levy5: [0.01236, 0.00834, 0.0185],
  michal5: [0.7913, 0.525, 0.879],
  rosenbrock5: [6.352, 6.07, 9.02],
  schwefel5: [237.2, 120, 238],
  shekel4: [5.366, 0.0206, 6.47],
  func2c: [1.275e-7, 2.76e-8, 1.83e-7],
};

/** DeepHyper 0.13.2 default CBO, seconds per step (ask 1 + tell) on Ackley 5D, from search-overhead.md. */
const DEEPHYPER_STEP: Record<number, number> = { 100: 0.582, 1000: 0.569, 10000: 1.2 };

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toPrecision(4) : v.toExponential(3));
const cell = (m: number, a: number, b: number) => `${fmt(m)} [${fmt(a)}, ${fmt(b)}]`;

function regretRun(tf: TestFunction, make: (p: HpProblem) => CBO | RandomSearch): { regret: number; seconds: number } {
  const opt = make(tf.problem());
  let best = Infinity;
  let spent = 0;
  for (let i = 0; i < EVALS; i++) {
    const t0 = performance.now();
    const [c] = opt.ask(1);
    spent += performance.now() - t0;
    const y = tf.f(c!);
    best = Math.min(best, y);
    const t1 = performance.now();
    opt.tell([{ config: c!, objective: -y }]);
    spent += performance.now() - t1;
  }
  return { regret: Math.max(0, best - tf.fStar), seconds: spent / 1000 };
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (r: string[]) => `| ${r.map((c, j) => c.padEnd(widths[j]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(r));
}

function quality(): void {
  console.log(`\n## Search quality: regret after ${EVALS} evaluations, median [q1, q3] over ${nSeeds} seeds (0..${nSeeds - 1})\n`);
  const rows: string[][] = [];
  let meets = 0;
  const fns = TEST_FUNCTIONS.filter((f) => !only || only.includes(f.name));
  for (const tf of fns) {
    const cbo: number[] = [];
    const rnd: number[] = [];
    let secs = 0;
    for (let seed = 0; seed < nSeeds; seed++) {
      const r = regretRun(tf, (p) => new CBO(p, { seed }));
      cbo.push(r.regret);
      secs += r.seconds;
      rnd.push(regretRun(tf, (p) => new RandomSearch(p, { seed })).regret);
    }
    cbo.sort((a, b) => a - b);
    rnd.sort((a, b) => a - b);
    const dh = DEEPHYPER_CBO[tf.name]!;
    const med = quantile(cbo, 0.5);
    const ok = med <= dh[0];
    if (ok) meets++;
    rows.push([
      tf.name,
      cell(med, quantile(cbo, 0.25), quantile(cbo, 0.75)),
      cell(quantile(rnd, 0.5), quantile(rnd, 0.25), quantile(rnd, 0.75)),
      cell(dh[0], dh[1], dh[2]),
      ok ? 'yes' : 'no',
      (secs / nSeeds).toFixed(2),
    ]);
    process.stderr.write(`${tf.name} done\n`);
  }
  printTable(['function', 'deephyper-ts CBO', 'deephyper-ts random', 'DeepHyper CBO (n=5)', 'median <= DH', 'CBO s/run'], rows);
  console.log(`\nCBO median regret no worse than DeepHyper's on ${meets}/${fns.length} functions.`);
}

function ackley(c: Config, d: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < d; i++) {
    const v = c[`x${i}`] as number;
    s1 += v * v;
    s2 += Math.cos(2 * Math.PI * v);
  }
  return -20 * Math.exp(-0.2 * Math.sqrt(s1 / d)) - Math.exp(s2 / d) + 20 + Math.E;
}

async function overhead(): Promise<void> {
  const sizes = quick ? [100, 1000] : [100, 1000, 10000];
  console.log(`\n## Overhead: seconds per step (ask of q points + tell) with n evaluated points, Ackley dD, median of repeats\n`);
  const rows: string[][] = [];
  for (const d of [5, 20]) {
    for (const n of sizes) {
      const p = new HpProblem();
      for (let i = 0; i < d; i++) p.add(`x${i}`, [-36.768, 28.768], { type: 'float' });
      const cbo = new CBO(p, { seed: 1 });
      const rng = new Rng(42);
      const history = p.sample(n, rng).map((config) => ({ config, objective: -ackley(config, d) }));
      cbo.tell(history);
      const times: Record<number, number[]> = { 1: [], 8: [] };
      const cpu: Record<number, number[]> = { 1: [], 8: [] };
      const reps = n >= 10000 ? 3 : 5;
      for (const q of [1, 8]) {
        for (let r = 0; r < reps; r++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          const configs = cbo.ask(q);
          cbo.tell(configs.map((config) => ({ config, objective: -ackley(config, d) })));
          times[q]!.push((performance.now() - t0) / 1000);
          const cu = process.cpuUsage(c0);
          cpu[q]!.push((cu.user + cu.system) / 1e6);
        }
      }
      const med = (a: number[]) => quantile([...a].sort((x, y) => x - y), 0.5);
      const dh = d === 5 ? DEEPHYPER_STEP[n] : undefined;
      rows.push([
        String(d),
        String(n),
        med(times[1]!).toFixed(4),
        `${med(cpu[1]!).toFixed(4)} / ${Math.max(...cpu[1]!).toFixed(3)}`,
        med(times[8]!).toFixed(4),
        `${med(cpu[8]!).toFixed(4)} / ${Math.max(...cpu[8]!).toFixed(3)}`,
        dh === undefined ? '-' : dh.toFixed(3),
        dh === undefined ? '-' : `${(dh / med(times[1]!)).toFixed(1)}x`,
      ]);
      process.stderr.write(`overhead d=${d} n=${n} done\n`);
    }
  }
  printTable(['d', 'n', 'ask(1) wall s', 'ask(1) cpu s (median / max)', 'ask(8) wall s', 'ask(8) cpu s (median / max)', 'DeepHyper ask(1) s', 'speed-up (wall)'], rows);
  console.log('\nAbove 2,000 evaluations the first ask at a new anchor size regrows the trees (the max column).');
  console.log('ask(q) includes the tell of its q results. cpu = user+system time of this process (includes GC threads),');
  console.log('a steadier figure than wall time when other processes share the cores. DeepHyper: d = 5 only, quiet machine');
  console.log('(n = 10,000 measured under load), from search-overhead.md.');
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
}

console.log(`# bench:search (${quick ? 'quick' : 'full'}; node ${process.version})`);
if (!flag('no-quality')) quality();
if (!flag('no-overhead')) await overhead();
