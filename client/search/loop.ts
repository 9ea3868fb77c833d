// The asynchronous search loop (DeepHyper's Search._search): ask as many points as there are free workers, submit,
// gather as soon as any evaluation finishes, journal it durably, tell the optimizer, repeat.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { AskTellOptimizer, Config, Evaluation } from '../hpo/types.js';
import type { Stopper } from '../stopper/types.js';
import type { Evaluator } from '../evaluator/evaluator.js';
import type { JobResult, JobSpec } from '../evaluator/types.js';
import type { SearchCallback, SearchProgress } from './callbacks.js';
import { readResultsCsv, writeResultsCsv } from './csv.js';
import { SearchError } from './errors.js';
import { Journal, timestamp, type JournalState } from './journal.js';
import { objectiveScore, SearchResults } from './results.js';

export const RESULTS_FILE = 'results.csv';

export interface SearchOptions {
  /** Stop once this many evaluations finished (default -1: until timeout, a callback or `signal`). */
  maxEvals?: number;
  /** Wall-clock budget of the whole search; running evaluations are cancelled when it expires. */
  timeoutMs?: number;
  /** Continue the search journaled in `logDir`: finished evaluations are told, interrupted ones run again. */
  resume?: boolean;
  /** Where journal.jsonl and results.csv go; without it the search keeps nothing on disk. */
  logDir?: string;
  /** Early-discarding policy fed with the intermediate values of running evaluations. */
  stopper?: Stopper;
  callbacks?: SearchCallback[];
  /** Evaluations of an earlier search (or the path of its results.csv) told to the optimizer before starting. */
  warmStart?: string | Evaluation[];
  /** Aborting ends the search like a timeout. */
  signal?: AbortSignal;
  /** End the search after this many failed evaluations (default 100, as DeepHyper; -1: never). */
  maxTotalFailures?: number;
  /** Minimum interval between two rewrites of results.csv (default 1000 ms; it is always written at the end). */
  csvIntervalMs?: number;
}

/**
 * Run a search to completion and return its results. The optimizer may carry its `problem`, whose hyperparameter
 * names give the order of the p: columns of results.csv.
 */
export async function runSearch(
  optimizer: AskTellOptimizer & { problem?: unknown },
  evaluator: Evaluator,
  options: SearchOptions = {},
): Promise<SearchResults> {
  const maxEvals = options.maxEvals ?? -1;
  if (!Number.isInteger(maxEvals) || (maxEvals < 1 && maxEvals !== -1)) {
    throw new SearchError('SEARCH_BAD_OPTIONS', `maxEvals must be a positive integer or -1, got ${maxEvals}`);
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new SearchError('SEARCH_BAD_OPTIONS', `timeoutMs must be positive, got ${options.timeoutMs}`);
  }
  if (options.resume && !options.logDir) {
    throw new SearchError('SEARCH_BAD_OPTIONS', 'resume needs the logDir of the search to continue');
  }
  const maxTotalFailures = options.maxTotalFailures ?? 100;
  const callbacks = options.callbacks ?? [];
  const problemNames = hyperparameterNamesOf(optimizer.problem);

  let journal: Journal | undefined;
  let state: JournalState = { startedAt: Date.now(), finished: [], interrupted: [], lastId: -1 };
  if (options.logDir) {
    const opened = Journal.open(options.logDir, options.resume === true, problemNames);
    journal = opened.journal;
    state = opened.state;
    if (!options.resume) moveAside(options.logDir);
  }
  const startedAt = state.startedAt;
  const clockStart = Date.now();
  const history: JobResult[] = [...state.finished];
  const names = () => problemNames ?? state.hyperparameters ?? namesFromConfigs(history);
  let lastCsv = 0;
  const writeCsv = (force: boolean) => {
    if (!options.logDir || history.length === 0) return;
    if (!force && Date.now() - lastCsv < (options.csvIntervalMs ?? 1000)) return;
    lastCsv = Date.now();
    writeResultsCsv(join(options.logDir, RESULTS_FILE), history, names(), startedAt);
  };

  if (options.warmStart !== undefined) {
    const earlier = typeof options.warmStart === 'string' ? readResultsCsv(options.warmStart).evaluations : options.warmStart;
    if (earlier.length > 0) optimizer.tell(earlier);
  }
  if (history.length > 0) optimizer.tell(history.map(toEvaluation));
  writeCsv(true);

  const stopper = options.stopper;
  if (stopper) {
    // A resumed search rebuilds its stopper's state (rungs, best curves) from the journaled learning curves.
    for (const r of history) {
      for (const [step, objective] of r.curve ?? []) stopper.observe(r.id, step, objective);
      stopper.complete(r.id);
    }
    evaluator.setStopHandler((jobId, step, objective) => stopper.observe(jobId, step, objective));
  }

  const resubmit: JobSpec[] = state.interrupted.map((j) => ({ id: j.id, parameters: j.parameters }));
  let nextId = state.lastId + 1;
  let failures = history.filter((r) => r.objective === null).length;
  let best: number | undefined;
  for (const r of history) best = better(best, r);
  const progress = (): SearchProgress => ({
    done: history.length,
    failed: failures,
    running: evaluator.pending,
    maxEvals,
    best,
    elapsedMs: Date.now() - clockStart,
  });

  const deadline = options.timeoutMs !== undefined ? clockStart + options.timeoutMs : Infinity;
  let reason: string | undefined;
  for (const cb of callbacks) cb.onStart?.(progress());
  try {
    while (reason === undefined) {
      if (maxEvals !== -1 && history.length >= maxEvals) reason = 'max-evals';
      else if (options.signal?.aborted) reason = 'stopped';
      else if (Date.now() >= deadline) reason = 'timeout';
      else if (maxTotalFailures !== -1 && failures >= maxTotalFailures) reason = 'exhausted-failures';
      if (reason !== undefined) break;

      const room = maxEvals === -1 ? Infinity : maxEvals - history.length - evaluator.pending;
      const free = Math.min(evaluator.numWorkers - evaluator.pending, room);
      if (free > 0) {
        const batch: JobSpec[] = resubmit.splice(0, free);
        if (batch.length < free) {
          const configs: Config[] = optimizer.ask(free - batch.length);
          for (const parameters of configs) batch.push({ id: String(nextId++), parameters });
        }
        if (batch.length > 0) {
          journal?.append(batch.map((j) => ({ t: 'submit' as const, id: j.id, parameters: j.parameters, at: Date.now() })), false);
          evaluator.submit(batch);
        }
      }
      if (evaluator.pending === 0) {
        reason = 'exhausted';
        break;
      }

      const waitMs = deadline === Infinity ? undefined : Math.max(0, deadline - Date.now());
      const gathered = await evaluator.gather({ waitMs, signal: options.signal });
      if (gathered.length === 0) continue;
      const finished = gathered.map((r) => settle(r, stopper));
      // Durable before counted: a crash after this line loses nothing, a crash before it re-runs these jobs.
      journal?.append(finished.map((result) => ({ t: 'done' as const, result })), true);
      for (const r of finished) {
        stopper?.complete(r.id);
        history.push(r);
        if (r.objective === null) failures++;
        best = better(best, r);
      }
      optimizer.tell(finished.map(toEvaluation));
      writeCsv(false);
      for (const cb of callbacks) {
        const stop = cb.onGather?.(finished, progress());
        if (typeof stop === 'string' && reason === undefined) reason = stop;
      }
    }
  } finally {
    await evaluator.cancelAll();
    evaluator.setStopHandler(undefined);
    writeCsv(true);
    journal?.close();
  }
  for (const cb of callbacks) cb.onEnd?.(progress(), reason);
  return new SearchResults(history, names(), reason);
}

/**
 * Stamp the gather time; keep "stopped" only for runs cut before the stopper's last step; a stopped run's objective
 * is the one its stopper keeps for it (the last value, or e.g. the area under the curve for LCModelStopper).
 */
function settle(r: JobResult, stopper: Stopper | undefined): JobResult {
  const out: JobResult = { ...r, timestamps: { ...r.timestamps, gather: Date.now() } };
  if (out.stopped && stopper && out.budget !== undefined && out.budget >= stopper.maxSteps) {
    out.stopped = false;
    delete out.stopReason;
  }
  if (out.stopped && stopper?.objectiveOf && typeof out.objective === 'number') {
    const kept = stopper.objectiveOf(out.id);
    if (kept !== undefined && Number.isFinite(kept)) out.objective = kept;
  }
  return out;
}

function toEvaluation(r: JobResult): Evaluation {
  const e: Evaluation = { config: r.parameters, objective: r.objective, metadata: r.metadata };
  if (r.objective === null) e.failed = true;
  if (r.budget !== undefined) e.budget = r.budget;
  return e;
}

function better(best: number | undefined, r: JobResult): number | undefined {
  const v = objectiveScore(r.objective);
  return v === undefined || (best !== undefined && best >= v) ? best : v;
}

/** Hyperparameter names of an HpProblem-like object: `hyperparameterNames` (array or method) or `names`. */
export function hyperparameterNamesOf(problem: unknown): string[] | undefined {
  if (typeof problem !== 'object' || problem === null) return undefined;
  const p = problem as { hyperparameterNames?: unknown; names?: unknown };
  for (const candidate of [p.hyperparameterNames, p.names]) {
    const value = typeof candidate === 'function' ? (candidate as () => unknown).call(problem) : candidate;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  }
  return undefined;
}

function namesFromConfigs(results: readonly JobResult[]): string[] {
  const names = new Set<string>();
  for (const r of results) for (const k of Object.keys(r.parameters)) names.add(k);
  return [...names].sort();
}

/** A fresh (non-resumed) search keeps an earlier results.csv as results_<stamp>.csv, as DeepHyper does. */
function moveAside(logDir: string): void {
  mkdirSync(logDir, { recursive: true });
  const path = join(logDir, RESULTS_FILE);
  if (existsSync(path)) renameSync(path, join(logDir, `results_${timestamp()}.csv`));
}
