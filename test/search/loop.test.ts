// The search loop: asynchronous ask/submit/gather, results.csv columns, stoppers, timeouts, callbacks, warm start.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Evaluator, type RunningJob } from '../../client/evaluator/index.js';
import { parseCsv, readResultsCsv, runSearch, SearchEarlyStopping, formatProgress, ProgressCallback } from '../../client/search/index.js';
import { readJournal } from '../../client/search/journal.js';
import type { Stopper } from '../../client/stopper/types.js';
import { TinyOptimizer } from './fixtures/tiny-optimizer.js';
import { PassThrough } from 'node:stream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (job: RunningJob) => -(((job.parameters.x as number) - 0.5) ** 2);

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-loop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('asks as many points as free workers and keeps them busy until maxEvals', async (t) => {
  let running = 0;
  let maxRunning = 0;
  const evaluator = await Evaluator.create(
    async (job) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(5 + 20 * (job.parameters.y as number));
      running--;
      return f(job);
    },
    { numWorkers: 4 },
  );
  const opt = new TinyOptimizer(7);
  const results = await runSearch(opt, evaluator, { maxEvals: 30 });
  t.equal(results.length, 30);
  t.equal(results.reason, 'max-evals');
  t.equal(maxRunning, 4);
  t.equal(opt.asked.length, 30, 'never asks beyond maxEvals');
  t.equal(opt.told.length, 30);
  t.same(new Set(results.evaluations.map((e) => e.id)).size, 30);
  const best = results.best()!;
  t.equal(best.objective, Math.max(...results.evaluations.map((e) => e.objective as number)));
  t.equal(results.trajectory().at(-1), best.objective);
  await evaluator.close();
});

t.test('results.csv has DeepHyper columns; failures are written F', async (t) => {
  const dir = tempDir(t);
  const evaluator = await Evaluator.create(
    async (job) => {
      if ((job.parameters.x as number) < 0.3) throw new Error('too small');
      return { objective: f(job), metadata: { note: `n${job.id}` } };
    },
    { numWorkers: 2 },
  );
  const results = await runSearch(new TinyOptimizer(3), evaluator, { maxEvals: 12, logDir: dir });
  await evaluator.close();
  const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
  t.same(rows[0], ['p:x', 'p:y', 'objective', 'job_id', 'job_status', 'm:timestamp_submit', 'm:timestamp_start', 'm:timestamp_end', 'm:timestamp_gather', 'm:error', 'm:note']);
  t.equal(rows.length, 13);
  const failed = rows.slice(1).filter((r) => r[2] === 'F');
  t.ok(failed.length > 0, 'some evaluations failed');
  t.equal(failed.length, results.failed().length);
  for (const r of failed) {
    t.equal(r[4], 'FAILED');
    t.equal(r[9], 'too small');
  }
  for (const r of rows.slice(1)) {
    const [submit, start, end, gather] = r.slice(5, 9).map(Number);
    t.ok(submit! <= start! && start! <= end! && end! <= gather!, 'timestamps in order');
  }
  // Read back, as a warm start would.
  const table = readResultsCsv(join(dir, 'results.csv'));
  t.same(table.hyperparameters, ['x', 'y']);
  t.equal(table.evaluations.length, 12);
  t.equal(table.evaluations.filter((e) => e.failed).length, failed.length);
  const ok = table.evaluations.find((e) => !e.failed)!;
  t.type(ok.objective, 'number');
  t.match(ok.metadata, { note: /^n\d+$/ });
});

t.test('multi-objective: objective_i columns and a Pareto front', async (t) => {
  const dir = tempDir(t);
  const evaluator = await Evaluator.create(async (job) => [job.parameters.x as number, 1 - (job.parameters.x as number) ** 2], { numWorkers: 3 });
  const results = await runSearch(new TinyOptimizer(5), evaluator, { maxEvals: 15, logDir: dir });
  await evaluator.close();
  const header = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'))[0]!;
  t.same(header.slice(0, 4), ['p:x', 'p:y', 'objective_0', 'objective_1']);
  // x -> (x, 1 - x^2) is a trade-off curve: every point is Pareto-efficient.
  t.equal(results.paretoFront().length, 15);
  t.ok(results.best());
});

t.test('a stopper cuts runs short: m:budget, m:stopped, and the optimizer learns from stopped runs', async (t) => {
  const dir = tempDir(t);
  const completed: string[] = [];
  const stopper: Stopper = {
    maxSteps: 5,
    observe: (jobId, step) => (Number(jobId) % 2 === 1 && step >= 2 ? { stop: true, reason: 'odd job' } : { stop: step >= 5 }),
    complete: (jobId) => void completed.push(jobId),
  };
  const evaluator = await Evaluator.create(
    async (job) => {
      for (let step = 1; step <= 5; step++) {
        await job.record(step, step * (job.parameters.x as number));
        if (job.stopped()) break;
      }
    },
    { numWorkers: 2 },
  );
  const opt = new TinyOptimizer(9);
  const results = await runSearch(opt, evaluator, { maxEvals: 8, logDir: dir, stopper });
  await evaluator.close();
  t.equal(completed.length, 8);
  for (const e of results.evaluations) {
    const odd = Number(e.id) % 2 === 1;
    t.equal(e.budget, odd ? 2 : 5);
    t.equal(e.stopped, odd, `job ${e.id}: stopped only when cut before maxSteps`);
    t.equal(e.objective, (odd ? 2 : 5) * (e.parameters.x as number));
  }
  t.same(opt.told.map((e) => e.budget).sort(), results.evaluations.map((e) => e.budget).sort());
  const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
  t.ok(rows[0]!.includes('m:budget') && rows[0]!.includes('m:stopped') && rows[0]!.includes('m:stop_reason'));
});

t.test('timeoutMs ends the search and cancels running evaluations', async (t) => {
  const evaluator = await Evaluator.create(async (job) => {
    await new Promise((r) => {
      const timer = setTimeout(r, 10_000);
      job.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        r(undefined);
      });
    });
    return 1;
  }, { numWorkers: 2, killGraceMs: 100 });
  const start = Date.now();
  const results = await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 10, timeoutMs: 300 });
  t.equal(results.reason, 'timeout');
  t.equal(results.length, 0);
  t.ok(Date.now() - start < 2000);
  await evaluator.close();
});

t.test('SearchEarlyStopping ends a search that stopped improving', async (t) => {
  const evaluator = await Evaluator.create(async () => 1, { numWorkers: 1 });
  const results = await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 100, callbacks: [new SearchEarlyStopping({ patience: 5 })] });
  t.equal(results.reason, 'early-stopping');
  t.equal(results.length, 6);
  await evaluator.close();
});

t.test('maxTotalFailures ends a search where everything fails', async (t) => {
  const evaluator = await Evaluator.create(async () => 'F_broken', { numWorkers: 2 });
  const results = await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 100, maxTotalFailures: 6 });
  t.equal(results.reason, 'exhausted-failures');
  t.ok(results.length >= 6 && results.length <= 7);
  await evaluator.close();
});

t.test('warm start tells an earlier results.csv to the optimizer first', async (t) => {
  const dir = tempDir(t);
  const csv = join(dir, 'earlier.csv');
  writeFileSync(csv, 'p:x,p:y,objective,job_id,job_status,m:timestamp_submit,m:timestamp_gather\n0.1,0.2,-0.5,0,DONE,0.1,0.2\n0.3,0.4,F,1,DONE,0.3,0.4\n');
  const evaluator = await Evaluator.create(async (job) => f(job), { numWorkers: 1 });
  const opt = new TinyOptimizer(2);
  await runSearch(opt, evaluator, { maxEvals: 2, warmStart: csv });
  t.same(opt.told.slice(0, 2).map((e) => [e.config, e.objective, e.failed ?? false]), [
    [{ x: 0.1, y: 0.2 }, -0.5, false],
    [{ x: 0.3, y: 0.4 }, null, true],
  ]);
  t.equal(opt.told.length, 4);
  t.throws(() => readResultsCsv(join(dir, 'missing.csv')), { code: 'CSV_BAD_FILE' });
  writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n');
  t.throws(() => readResultsCsv(join(dir, 'bad.csv')), /header needs p:<name> columns/);
  await evaluator.close();
});

t.test('resume: finished evaluations are told, not re-run; interrupted ones run again with their id', async (t) => {
  const dir = tempDir(t);
  const started: string[] = [];
  const evaluator = await Evaluator.create(async (job) => {
    started.push(job.id);
    return f(job);
  }, { numWorkers: 2 });
  await runSearch(new TinyOptimizer(4), evaluator, { maxEvals: 6, logDir: dir });
  // Simulate a crash with job 6 submitted but unfinished, and a torn last line.
  const journal = join(dir, 'journal.jsonl');
  writeFileSync(journal, readFileSync(journal, 'utf8') + JSON.stringify({ t: 'submit', id: '6', parameters: { x: 0.25, y: 0.5 }, at: Date.now() }) + '\n{"t":"done","res');
  started.length = 0;
  const opt = new TinyOptimizer(4);
  const results = await runSearch(opt, evaluator, { maxEvals: 9, logDir: dir, resume: true });
  t.equal(results.length, 9);
  t.same(started, ['6', '7', '8'].slice(0, started.length));
  t.equal(started[0], '6');
  t.equal(opt.told.length, 9, '6 told from the journal, then 3 new');
  const state = readJournal(journal).state;
  t.same(state.finished.map((r) => r.id).sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  t.equal(state.interrupted.length, 0);
  await evaluator.close();
  // A fresh (non-resume) search moves the old journal and results aside.
  const fresh = await Evaluator.create(async (job) => f(job), { numWorkers: 1 });
  await runSearch(new TinyOptimizer(4), fresh, { maxEvals: 1, logDir: dir });
  t.equal(readJournal(journal).state.finished.length, 1);
  await fresh.close();
});

t.test('progress: a plain line off a TTY, a redrawn bar on a TTY', async (t) => {
  t.equal(formatProgress({ done: 3, failed: 1, running: 2, maxEvals: 10, best: 0.123456789, elapsedMs: 65_000 }), '3/10 done, 2 running, 1 failed, best 0.123457, 01:05');
  const plain = new PassThrough();
  let text = '';
  plain.on('data', (d) => (text += d));
  const evaluator = await Evaluator.create(async (job) => f(job), { numWorkers: 2 });
  await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 4, callbacks: [new ProgressCallback({ stream: plain, intervalMs: 0 })] });
  t.match(text, /^0\/4 done/);
  t.match(text, /4\/4 done, 0 running, 0 failed, best -?\d/);
  t.match(text, /search ended: max-evals\n$/);
  t.notMatch(text, /\r/);
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  let ttyText = '';
  tty.on('data', (d) => (ttyText += d));
  await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 2, callbacks: [new ProgressCallback({ stream: tty })] });
  t.match(ttyText, /\r\x1b\[K\[#+\.*\] /);
  await evaluator.close();
});

t.test('resume with a stopper: the journaled learning curves rebuild its state before new runs', async (t) => {
  const dir = tempDir(t);
  const makeStopper = (log: string[]): Stopper => ({
    maxSteps: 3,
    observe: (jobId, step, objective) => {
      log.push(`${jobId}@${step}=${objective}`);
      return { stop: jobId === '1' && step >= 2, reason: 'test' };
    },
    complete: (jobId) => void log.push(`${jobId}:end`),
  });
  const evaluator = await Evaluator.create(
    async (job) => {
      for (let step = 1; step <= 3; step++) {
        await job.record(step, step * 10 + Number(job.id));
        if (job.stopped()) break;
      }
    },
    { numWorkers: 1 },
  );
  const first: string[] = [];
  await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 2, logDir: dir, stopper: makeStopper(first) });
  const second: string[] = [];
  const results = await runSearch(new TinyOptimizer(1), evaluator, { maxEvals: 3, logDir: dir, resume: true, stopper: makeStopper(second) });
  t.same(second.slice(0, 7), ['0@1=10', '0@2=20', '0@3=30', '0:end', '1@1=11', '1@2=21', '1:end'], 'replayed, the stopped run up to its stop');
  t.same(second.slice(7), ['2@1=12', '2@2=22', '2@3=32', '2:end']);
  t.equal(results.evaluations[1]!.stopped, true);
  t.equal(results.evaluations[1]!.objective, 21);
  await evaluator.close();
});
