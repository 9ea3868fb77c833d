/**
 * `npm run bench:micro`: the cases of `ray microbenchmark` under the same names, plus wait on 1,000 refs, on a head
 * plus one agent (the embedded cluster: `dhts start --head` in one process, sized to this machine). Each case runs
 * 5 timed rounds after a warm-up; the table shows the median rate, Ray 2.58's rate measured on the same kind of
 * machine (../shared/reference/ray-microbenchmark.md) and the ratio.
 *
 *   npm run bench:micro [-- --rounds 5 --seconds 1 --only tasks]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { get, init, put, remote, shutdown, wait, type ActorHandle, type ObjectRef } from '../../client/index.js';
import type * as W from './workloads.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const ROUNDS = flag('rounds', 5);
const SECONDS = flag('seconds', 1);
const CPUS = availableParallelism();
const W_URL = new URL('./workloads.js', import.meta.url);

interface Case {
  name: string;
  unit?: string;
  /** Runs some work; returns how many operations it did (or GB for put_gigabytes). */
  step: () => Promise<number>;
}

function rayFigures(): Map<string, { mean: number; std: number }> {
  const out = new Map<string, { mean: number; std: number }>();
  const path = new URL('../../../../shared/reference/ray-microbenchmark.md', import.meta.url);
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^\|\s*([a-z0-9_]+)\s*\|\s*([\d,.]+)\s*±\s*([\d,.]+)/.exec(line);
    if (m) out.set(m[1]!, { mean: Number(m[2]!.replace(/,/g, '')), std: Number(m[3]!.replace(/,/g, '')) });
  }
  return out;
}

async function measure(c: Case): Promise<number[]> {
  // Warm-up: start workers, load modules, fill caches.
  const warmEnd = Date.now() + Math.min(1000, SECONDS * 500);
  while (Date.now() < warmEnd) {
    await c.step();
    await new Promise((r) => setImmediate(r));
  }
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const end = Date.now() + SECONDS * 1000;
    let lastYield = Date.now();
    while (Date.now() < end) {
      ops += await c.step();
      // Purely local steps never leave the microtask queue: let timers and sockets run now and then.
      if (Date.now() - lastYield > 20) {
        await new Promise((r) => setImmediate(r));
        lastYield = Date.now();
      }
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(ops / secs);
  }
  return rates;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2);
}

async function main(): Promise<void> {
  const info = await init({ address: 'local', logToDriver: false });
  process.stderr.write(`cluster: head + one agent at ${info.address}, ${CPUS} CPUs; ${ROUNDS} rounds of ${SECONDS}s per case\n`);
  const small = remote<typeof W.small>(W_URL, 'small');
  const Target = remote<typeof W.Target>(W_URL, 'Target');
  const Client = remote<typeof W.Client>(W_URL, 'Client', { numCpus: 0 });
  const batch = async <T>(n: number, make: () => ObjectRef<T>): Promise<number> => {
    await get(Array.from({ length: n }, make));
    return n;
  };

  const one = Target.remote();
  const concurrent = Target.options({ maxConcurrency: 16 }).remote();
  const half = Math.max(1, Math.floor(CPUS / 2));
  const many: ActorHandle<W.Target>[] = Array.from({ length: half }, () => Target.remote());
  const clients = Array.from({ length: CPUS }, () => Client.remote());
  const taskClients = Array.from({ length: 4 }, () => Client.remote());
  const smallRef = put(0);
  const gigabyte = new Uint8Array(100 * 1024 * 1024).fill(1);

  const cases: Case[] = [
    { name: 'single_client_tasks_sync', step: async () => (await get(small.remote()), 1) },
    { name: 'single_client_tasks_async', step: () => batch(1000, () => small.remote()) },
    { name: 'multi_client_tasks_async', step: async () => (await get(taskClients.map((c) => c.tasks.remote(2000, 1000)))).reduce((a, b) => a + b, 0) },
    { name: 'single_client_get_calls', step: async () => (await get(smallRef), 1) },
    { name: 'single_client_put_calls', step: async () => (put(0), 1) },
    { name: 'single_client_put_gigabytes', unit: 'GB/s', step: async () => (put(gigabyte), 0.1 * 1.073741824) },
    {
      name: 'single_client_wait_1k_refs',
      step: async () => {
        let notReady = Array.from({ length: 1000 }, () => small.remote());
        while (notReady.length) [, notReady] = await wait(notReady);
        return 1;
      },
    },
    { name: '1_1_actor_calls_sync', step: async () => (await get(one.small.remote()), 1) },
    { name: '1_1_actor_calls_async', step: () => batch(1000, () => one.small.remote()) },
    { name: '1_1_actor_calls_concurrent', step: () => batch(1000, () => concurrent.smallAsync.remote()) },
    {
      name: '1_n_actor_calls_async',
      step: async () => {
        await get(many.flatMap((a) => Array.from({ length: 1000 }, () => a.small.remote())));
        return 1000 * many.length;
      },
    },
    { name: 'n_n_actor_calls_async', step: async () => (await get(clients.map((c) => c.calls.remote(1000, 1000)))).reduce((a, b) => a + b, 0) },
  ];
  // Global warm-up: start every worker and actor process and let the JIT settle before anything is timed.
  const warmUntil = Date.now() + 3000;
  while (Date.now() < warmUntil) {
    await batch(500, () => small.remote());
    for (let i = 0; i < 50; i++) await get(small.remote());
    await get([one.small.remote(), concurrent.smallAsync.remote(), ...many.map((a) => a.small.remote())]);
  }
  await get(clients.map((c) => c.calls.remote(100, 100)));
  await get(taskClients.map((c) => c.tasks.remote(100, 100)));
  const ray = rayFigures();
  const rows: string[][] = [];
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const rates = await measure(c);
    const ours = median(rates);
    const theirs = ray.get(c.name)?.mean ?? NaN;
    rows.push([c.name, `${fmt(ours)}${c.unit ? ` ${c.unit}` : ''}`, `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}`, Number.isFinite(theirs) ? fmt(theirs) : '-', Number.isFinite(theirs) ? `${(ours / theirs).toFixed(1)}x` : '-']);
    process.stderr.write(`${c.name}: ${fmt(ours)}\n`);
  }
  await shutdown();
  const header = ['case', 'dhts (median/s)', 'dhts range', 'Ray 2.58 (/s)', 'ratio'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`\n${ROUNDS} rounds of ${SECONDS} s per case, median; head + one agent (${CPUS} CPUs) on this machine; Ray's figures from ../shared/reference/ray-microbenchmark.md.`);
}

main().catch(async (e: Error) => {
  console.error(e);
  await shutdown().catch(() => {});
  process.exit(1);
});
