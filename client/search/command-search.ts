// A search over a command objective described by plain data (what `dhts search` parsed), so that it runs the same
// in the CLI's process or inside a detached search actor on the cluster.
import { Evaluator, type EvaluatorMethod } from '../evaluator/index.js';
import { CBO, RandomSearch } from '../hpo/index.js';
import { problemFromText } from '../hpo/problem-file.js';
import { createStopper, parseStopperName } from '../stopper/index.js';
import type { Stopper } from '../stopper/types.js';
import type { SearchCallback } from './callbacks.js';
import { SearchEarlyStopping } from './callbacks.js';
import { SearchError } from './errors.js';
import { runSearch } from './loop.js';
import type { SearchResults } from './results.js';

export interface CommandSearchSpec {
  name: string;
  /** Shell template with {name} placeholders. */
  template: string;
  /** The space file's text, and its path for error messages. */
  spaceText: string;
  spacePath: string;
  maxEvals: number;
  workers: number;
  /** Absolute path of the log directory (journal.jsonl, results.csv). */
  logDir: string;
  /** Working directory of the commands. */
  cwd: string;
  seed?: number;
  resume?: boolean;
  /** Per-evaluation time limit. */
  timeoutSec?: number;
  /** Time limit of the whole search. */
  searchTimeoutSec?: number;
  direction: 'maximize' | 'minimize';
  method: EvaluatorMethod;
  algorithm: 'cbo' | 'random';
  stopper?: string;
  maxSteps?: number;
  stopStep?: number;
  patience?: number;
  warmStart?: string;
  killGraceSec: number;
  address?: string;
}

export function buildStopper(spec: Pick<CommandSearchSpec, 'stopper' | 'maxSteps' | 'stopStep'>): Stopper | undefined {
  if (spec.stopper === undefined) return undefined;
  if (spec.maxSteps === undefined) throw new SearchError('SEARCH_BAD_OPTIONS', `--stopper ${spec.stopper} needs --max-steps (the number of steps of a full run)`);
  const kind = parseStopperName(spec.stopper);
  if (kind === 'constant' && spec.stopStep === undefined) throw new SearchError('SEARCH_BAD_OPTIONS', '--stopper constant needs --stop-step');
  return createStopper(kind, { maxSteps: spec.maxSteps, ...(kind === 'constant' ? { stopStep: spec.stopStep } : {}) } as never);
}

/** Run the search to its end; the evaluator is created and closed here. */
export async function runCommandSearch(spec: CommandSearchSpec, extra: { callbacks?: SearchCallback[]; signal?: AbortSignal } = {}): Promise<SearchResults> {
  const problem = problemFromText(spec.spaceText, spec.spacePath);
  const stopper = buildStopper(spec);
  const evaluator = await Evaluator.create(
    { command: spec.template, cwd: spec.cwd, direction: spec.direction, killGraceMs: spec.killGraceSec * 1000 },
    {
      method: spec.method,
      numWorkers: spec.workers,
      timeoutMs: spec.timeoutSec !== undefined ? spec.timeoutSec * 1000 : undefined,
      killGraceMs: spec.killGraceSec * 1000,
      address: spec.address,
    },
  );
  try {
    const options = { seed: spec.seed, logDir: spec.logDir, stopper };
    const optimizer = spec.algorithm === 'random' ? new RandomSearch(problem, options) : new CBO(problem, options);
    const callbacks = [...(extra.callbacks ?? [])];
    if (spec.patience !== undefined) callbacks.push(new SearchEarlyStopping({ patience: spec.patience }));
    return await runSearch(optimizer, evaluator, {
      maxEvals: spec.maxEvals,
      timeoutMs: spec.searchTimeoutSec !== undefined ? spec.searchTimeoutSec * 1000 : undefined,
      resume: spec.resume === true,
      logDir: spec.logDir,
      stopper,
      callbacks,
      signal: extra.signal,
      warmStart: spec.warmStart,
    });
  } finally {
    await evaluator.close();
  }
}
