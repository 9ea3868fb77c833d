// `dhts search`: a hyperparameter search over any command, from a space file, with a live progress line and
// crash-safe results in runs/<name>/ (or --log-dir).
import { basename, extname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { EvaluatorMethod } from '../../client/evaluator/types.js';
import { commandPlaceholders, shellQuote, parseCommandTemplate } from '../../client/evaluator/template.js';
import type { SearchCallback } from '../../client/search/callbacks.js';
import type { Stopper } from '../../client/stopper/types.js';

export interface SearchCliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

export interface SearchCliOptions {
  space: string;
  maxEvals: number;
  workers: number;
  logDir?: string;
  name?: string;
  seed?: number;
  resume?: boolean;
  timeout?: number;
  searchTimeout?: number;
  direction: 'maximize' | 'minimize';
  address?: string;
  method?: EvaluatorMethod;
  algorithm: 'cbo' | 'random';
  stopper?: string;
  maxSteps?: number;
  stopStep?: number;
  patience?: number;
  warmStart?: string;
  killGrace: number;
}

/** A usage error: printed without a stack trace, exit code 2. */
export class SearchCliError extends Error {
  readonly code = 'SEARCH_CLI_USAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchCliError';
  }
}

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer, got "${v}"`);
  return n;
};
const positiveNumber = (what: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${what} must be a positive number, got "${v}"`);
  return n;
};

/** Add `search` (and `search list | attach | stop` once the cluster runtime offers them) to the dhts program. */
export function registerSearchCommand(program: Command, io: SearchCliIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  const search = program
    .command('search')
    .description('search the hyperparameters of any command: -- python train.py --lr {lr} --units {units}')
    .argument('[command...]', 'the command to evaluate; {name} is replaced by the shell-quoted value of hyperparameter name')
    .requiredOption('--space <file>', 'search space file (YAML or JSON: name: [low, high] | [choices] | {low, high, log} | value)')
    .option('--max-evals <n>', 'number of evaluations', positiveInt('--max-evals'), 100)
    .option('--workers <n>', 'evaluations running at once', positiveInt('--workers'), 1)
    .option('--log-dir <dir>', 'where journal.jsonl and results.csv go (default runs/<name>)')
    .option('--name <name>', 'name of the run (default: the space file name)')
    .option('--seed <n>', 'seed of the search', (v) => Number.parseInt(v, 10))
    .option('--resume', 'continue the search journaled in the log directory')
    .option('--timeout <sec>', 'per-evaluation time limit in seconds (SIGTERM, then SIGKILL)', positiveNumber('--timeout'))
    .option('--search-timeout <sec>', 'time limit of the whole search in seconds', positiveNumber('--search-timeout'))
    .addOption(new Option('--direction <dir>', 'whether the printed objective is maximized or minimized').choices(['maximize', 'minimize']).default('maximize'))
    .option('--address <addr>', 'cluster address ("auto" for a local head): evaluations run on the cluster')
    .addOption(new Option('--method <m>', 'where commands run (default serial, or cluster with --address)').choices(['serial', 'thread', 'process', 'cluster']))
    .addOption(new Option('--algorithm <a>', 'search algorithm').choices(['cbo', 'random']).default('cbo'))
    .option('--stopper <name>', 'early discarding: sha | lce | median | constant | idle (needs --max-steps)')
    .option('--max-steps <m>', 'the largest step a run reports ({"step": s, "objective": v} lines)', positiveInt('--max-steps'))
    .option('--stop-step <s>', 'constant stopper: the step at which every run stops', positiveInt('--stop-step'))
    .option('--patience <n>', 'stop the search after n evaluations without improvement', positiveInt('--patience'))
    .option('--warm-start <csv>', 'tell the results of an earlier search (results.csv) before starting')
    .option('--kill-grace <sec>', 'seconds between SIGTERM and SIGKILL', positiveNumber('--kill-grace'), 2)
    .addHelpText(
      'after',
      `
The command prints its objective as the last line of stdout (a number, or {"objective": ...} with other keys
kept as metadata), and may print {"step": s, "objective": v} lines as it trains (for --stopper). Results:
<log-dir>/results.csv in DeepHyper's format, and journal.jsonl (kill the search at any time, then --resume).

Example:
  dhts search --space space.yaml --max-evals 50 --workers 4 -- python train.py --lr {lr} --units {units}`,
    )
    .action(async (command: string[], opts: SearchCliOptions) => {
      try {
        process.exitCode = await runSearchCli(command, opts, io);
      } catch (err) {
        io.stderr.write(`dhts search: ${(err as Error).message}\n`);
        process.exitCode = err instanceof SearchCliError || (err as { code?: string }).code === 'HPO_PROBLEM_FILE' ? 2 : 1;
      }
    });
  return search;
}

/** The shell template of a command given as argv tokens: literal text quoted, {name} placeholders kept. */
export function templateFromArgv(tokens: string[]): string {
  if (tokens.length === 1) return tokens[0]!; // one token: already a shell command line
  return tokens
    .map((token) =>
      parseCommandTemplate(token)
        .map((s) => ('name' in s ? `{${s.name}}` : shellQuote(s.text).replace(/[{}]/g, (c) => c + c)))
        .join(''),
    )
    .join(' ');
}

/** Run the search; resolves with the process exit code. */
export async function runSearchCli(tokens: string[], opts: SearchCliOptions, io: SearchCliIo): Promise<number> {
  if (tokens.length === 0) throw new SearchCliError('give the command to evaluate after --, e.g. -- python train.py --lr {lr}');
  if (opts.stopper !== undefined && opts.maxSteps === undefined) {
    throw new SearchCliError(`--stopper ${opts.stopper} needs --max-steps (the number of steps of a full run)`);
  }
  let template: string;
  try {
    template = templateFromArgv(tokens);
  } catch (err) {
    throw new SearchCliError((err as Error).message, { cause: err });
  }
  // Loaded here, not at the top: `dhts start` (and every embedded cluster) imports this file too.
  const [{ Evaluator }, { CBO, RandomSearch }, { problemFromFile }, { ProgressCallback, runSearch, SearchEarlyStopping }, { createStopper, parseStopperName }] = await Promise.all([
    import('../../client/evaluator/index.js'),
    import('../../client/hpo/index.js'),
    import('../../client/hpo/problem-file.js'),
    import('../../client/search/index.js'),
    import('../../client/stopper/index.js'),
  ]);
  const problem = problemFromFile(opts.space);
  const names = problem.hyperparameterNames;
  const unknown = commandPlaceholders(template).filter((p) => !names.includes(p));
  if (unknown.length > 0) {
    throw new SearchCliError(`the command uses {${unknown.join('}, {')}} but ${opts.space} defines only: ${names.join(', ')}`);
  }
  const name = opts.name ?? basename(opts.space, extname(opts.space));
  const logDir = resolve(opts.logDir ?? join('runs', name));
  let stopper: Stopper | undefined;
  if (opts.stopper !== undefined) {
    try {
      const kind = parseStopperName(opts.stopper);
      if (kind === 'constant' && opts.stopStep === undefined) throw new SearchCliError('--stopper constant needs --stop-step');
      stopper = createStopper(kind, { maxSteps: opts.maxSteps!, ...(kind === 'constant' ? { stopStep: opts.stopStep } : {}) } as never);
    } catch (err) {
      throw new SearchCliError((err as Error).message, { cause: err });
    }
  }
  const method: EvaluatorMethod = opts.method ?? (opts.address !== undefined ? 'cluster' : 'serial');
  const evaluator = await Evaluator.create(
    { command: template, cwd: process.cwd(), direction: opts.direction, killGraceMs: opts.killGrace * 1000 },
    {
      method,
      numWorkers: opts.workers,
      timeoutMs: opts.timeout !== undefined ? opts.timeout * 1000 : undefined,
      killGraceMs: opts.killGrace * 1000,
      address: opts.address,
    },
  );
  const optimizerOptions = { seed: opts.seed, logDir, stopper };
  const optimizer = opts.algorithm === 'random' ? new RandomSearch(problem, optimizerOptions) : new CBO(problem, optimizerOptions);
  const callbacks: SearchCallback[] = [new ProgressCallback({ stream: io.stderr })];
  if (opts.patience !== undefined) callbacks.push(new SearchEarlyStopping({ patience: opts.patience }));

  // Ctrl-C ends the search cleanly (journal intact, resume later); a second one leaves at once.
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    io.stderr.write('\ninterrupted: stopping the running evaluations (Ctrl-C again to leave at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  io.stderr.write(`search ${name}: ${names.length} hyperparameters, ${opts.maxEvals} evaluations, ${opts.workers} workers (${method}), results in ${logDir}\n`);
  try {
    const results = await runSearch(optimizer, evaluator, {
      maxEvals: opts.maxEvals,
      timeoutMs: opts.searchTimeout !== undefined ? opts.searchTimeout * 1000 : undefined,
      resume: opts.resume === true,
      logDir,
      stopper,
      callbacks,
      signal: interrupt.signal,
      warmStart: opts.warmStart,
    });
    const best = results.best();
    if (!best) {
      const last = results.failed().at(-1);
      io.stderr.write(`every evaluation failed${last?.error ? `; the last one: ${last.error}` : ''}\n`);
      return 1;
    }
    const shown = opts.direction === 'minimize' ? negate(best.objective) : best.objective;
    io.stdout.write(`best ${opts.direction === 'minimize' ? 'minimized ' : ''}objective ${JSON.stringify(shown)} (job ${best.id})\n`);
    io.stdout.write(`best configuration ${JSON.stringify(best.parameters)}\n`);
    io.stdout.write(`results: ${join(logDir, 'results.csv')}\n`);
    return interrupt.signal.aborted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await evaluator.close();
  }
}

function negate(o: number | number[]): number | number[] {
  return Array.isArray(o) ? o.map((v) => -v) : -o;
}
