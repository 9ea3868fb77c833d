// `dhts search`: a hyperparameter search over any command, from a space file, with a live progress line and
// crash-safe results in runs/<name>/ (or --log-dir).
import { readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import { integerAtLeast, positiveNumber } from './flags.js';
import type { EvaluatorMethod } from '../../client/evaluator/types.js';
import { commandPlaceholders, shellQuote, parseCommandTemplate } from '../../client/evaluator/template.js';
import type { ActorHandle } from '../../client/index.js';
import type { CommandSearchSpec } from '../../client/search/command-search.js';
import type { SearchActor, SearchStatus } from '../../client/search/search-actor.js';
import { DhtsError } from '../../protocol/errors.js';

export interface SearchCliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

/** The flags of `dhts search`: the spec's own fields under the same names, plus those the CLI turns into spec fields. */
export interface SearchCliOptions
  extends Pick<CommandSearchSpec, 'maxEvals' | 'workers' | 'seed' | 'resume' | 'direction' | 'algorithm' | 'stopper' | 'maxSteps' | 'stopStep' | 'patience' | 'warmStart'> {
  space?: string;
  logDir?: string;
  name?: string;
  /** Per-evaluation time limit, seconds (spec: timeoutSec). */
  timeout?: number;
  searchTimeout?: number;
  address?: string;
  method?: EvaluatorMethod;
  killGrace: number;
  detach?: boolean;
}

/** A usage error: printed without a stack trace, exit code 2. */
export class SearchCliError extends DhtsError<'SEARCH_CLI_USAGE'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SEARCH_CLI_USAGE', message, options);
  }
}

/** Add `search` and `search list | attach | stop` to the dhts program. */
export function registerSearchCommand(program: Command, io: SearchCliIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  const search = program
    .command('search')
    .description('search the hyperparameters of any command: -- python train.py --lr {lr} --units {units}')
    .argument('[command...]', 'the command to evaluate; {name} is replaced by the shell-quoted value of hyperparameter name')
    .option('--space <file>', 'search space file (YAML or JSON: name: [low, high] | [choices] | {low, high, log} | value)')
    .option('--max-evals <n>', 'number of evaluations', integerAtLeast('--max-evals', 1), 100)
    .option('--workers <n>', 'evaluations running at once', integerAtLeast('--workers', 1), 1)
    .option('--log-dir <dir>', 'where journal.jsonl and results.csv go (default runs/<name>)')
    .option('--name <name>', 'name of the run (default: the space file name)')
    .option('--seed <n>', 'seed of the search', integerAtLeast('--seed', 0))
    .option('--resume', 'continue the search journaled in the log directory')
    .option('--timeout <sec>', 'per-evaluation time limit in seconds (SIGTERM, then SIGKILL)', positiveNumber('--timeout'))
    .option('--search-timeout <sec>', 'time limit of the whole search in seconds', positiveNumber('--search-timeout'))
    .addOption(new Option('--direction <dir>', 'whether the printed objective is maximized or minimized').choices(['maximize', 'minimize']).default('maximize'))
    .option('--address <addr>', 'run the search as a detached actor of this cluster ("auto": the local head); see search list|attach|stop')
    .option('--detach', 'with --address: print the search id and return at once')
    .addOption(new Option('--method <m>', 'where commands run (default serial, or cluster with --address)').choices(['serial', 'thread', 'process', 'cluster']))
    .addOption(new Option('--algorithm <a>', 'search algorithm').choices(['cbo', 'random']).default('cbo'))
    .option('--stopper <name>', 'early discarding: sha | lce | median | constant | idle (needs --max-steps)')
    .option('--max-steps <m>', 'the largest step a run reports ({"step": s, "objective": v} lines)', integerAtLeast('--max-steps', 1))
    .option('--stop-step <s>', 'constant stopper: the step at which every run stops', integerAtLeast('--stop-step', 1))
    .option('--patience <n>', 'stop the search after n evaluations without improvement', integerAtLeast('--patience', 1))
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
  registerClusterSubcommands(search, io);
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
  if (!opts.space) throw new SearchCliError('--space <file> is required (the search space: name: [low, high] | [choices] | ...)');
  if (tokens.length === 0) throw new SearchCliError('give the command to evaluate after --, e.g. -- python train.py --lr {lr}');
  let template: string;
  try {
    template = templateFromArgv(tokens);
  } catch (err) {
    throw new SearchCliError((err as Error).message, { cause: err });
  }
  // Loaded here, not at the top: `dhts start` (and every embedded cluster) imports this file too.
  const { problemFromText } = await import('../../client/hpo/problem-file.js');
  const { buildStopper } = await import('../../client/search/command-search.js');
  let spaceText: string;
  try {
    spaceText = readFileSync(opts.space, 'utf8');
  } catch (err) {
    throw new SearchCliError(`${opts.space}: cannot read the space file (${(err as Error).message})`, { cause: err });
  }
  const problem = problemFromText(spaceText, opts.space);
  const names = problem.hyperparameterNames;
  const unknown = commandPlaceholders(template).filter((p) => !names.includes(p));
  if (unknown.length > 0) {
    throw new SearchCliError(`the command uses {${unknown.join('}, {')}} but ${opts.space} defines only: ${names.join(', ')}`);
  }
  const name = opts.name ?? basename(opts.space, extname(opts.space));
  const spec: CommandSearchSpec = {
    name,
    template,
    spaceText,
    spacePath: opts.space,
    maxEvals: opts.maxEvals,
    workers: opts.workers,
    logDir: resolve(opts.logDir ?? join('runs', name)),
    cwd: process.cwd(),
    seed: opts.seed,
    resume: opts.resume,
    timeoutSec: opts.timeout,
    searchTimeoutSec: opts.searchTimeout,
    direction: opts.direction,
    method: opts.method ?? (opts.address !== undefined ? 'cluster' : 'serial'),
    algorithm: opts.algorithm,
    stopper: opts.stopper,
    maxSteps: opts.maxSteps,
    stopStep: opts.stopStep,
    patience: opts.patience,
    warmStart: opts.warmStart ? resolve(opts.warmStart) : undefined,
    killGraceSec: opts.killGrace,
  };
  try {
    buildStopper(spec);
  } catch (err) {
    throw new SearchCliError((err as Error).message, { cause: err });
  }
  if (opts.address !== undefined) return startOnCluster(spec, opts.address, opts.detach === true, io);

  const { ProgressCallback } = await import('../../client/search/callbacks.js');
  const { runCommandSearch } = await import('../../client/search/command-search.js');
  // Ctrl-C ends the search cleanly (journal intact, resume later); a second one leaves at once.
  const interrupt = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    io.stderr.write('\ninterrupted: stopping the running evaluations (Ctrl-C again to leave at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  io.stderr.write(`search ${name}: ${names.length} hyperparameters, ${spec.maxEvals} evaluations, ${spec.workers} workers (${spec.method}), results in ${spec.logDir}\n`);
  try {
    const results = await runCommandSearch(spec, { callbacks: [new ProgressCallback({ stream: io.stderr })], signal: interrupt.signal });
    const best = results.best();
    if (!best) {
      const last = results.failed().at(-1);
      io.stderr.write(`every evaluation failed${last?.error ? `; the last one: ${last.error}` : ''}\n`);
      return 1;
    }
    printBest(io, opts.direction, best.id, opts.direction === 'minimize' ? negate(best.objective) : best.objective, best.parameters, spec.logDir);
    return interrupt.signal.aborted ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function printBest(io: SearchCliIo, direction: string, id: string, objective: unknown, parameters: unknown, logDir: string): void {
  io.stdout.write(`best ${direction === 'minimize' ? 'minimized ' : ''}objective ${JSON.stringify(objective)} (job ${id})\n`);
  io.stdout.write(`best configuration ${JSON.stringify(parameters)}\n`);
  io.stdout.write(`results: ${join(logDir, 'results.csv')}\n`);
}

/** Start the search as a detached actor of the cluster, then follow it (Ctrl-C only detaches). */
async function startOnCluster(spec: CommandSearchSpec, address: string, detach: boolean, io: SearchCliIo): Promise<number> {
  const { init, remote, get, shutdown } = await import('../../client/index.js');
  const { searchActorName } = await import('../../client/search/search-actor.js');
  await init({ address, logToDriver: false });
  try {
    const id = `${spec.name}-${Date.now().toString(36)}`;
    const actorClass = remote<typeof SearchActor>(new URL('../../client/search/search-actor.js', import.meta.url), 'SearchActor', {
      name: searchActorName(id),
      lifetime: 'detached',
      numCpus: 0,
      maxConcurrency: 8,
    });
    const actor = actorClass.remote();
    await get(actor.start.remote(id, { ...spec, method: spec.method === 'serial' ? 'cluster' : spec.method }));
    io.stderr.write(`search ${id} runs on the cluster (results in ${spec.logDir} on its node)\n`);
    io.stderr.write(`follow it: dhts search attach ${id} --address ${address}; stop it: dhts search stop ${id} --address ${address}\n`);
    io.stdout.write(`${id}\n`);
    if (detach) return 0;
    return await follow(id, io);
  } finally {
    await shutdown();
  }
}

/** Print the progress of a cluster search until it ends; Ctrl-C stops following, not the search. */
async function follow(id: string, io: SearchCliIo): Promise<number> {
  const { kvGet } = await import('../../client/index.js');
  const { SEARCH_KV_PREFIX } = await import('../../client/search/search-actor.js');
  const { formatProgress } = await import('../../client/search/callbacks.js');
  let detached = false;
  const onSigint = () => {
    detached = true;
  };
  process.on('SIGINT', onSigint);
  const tty = io.stderr.isTTY === true;
  let last = '';
  try {
    for (;;) {
      const raw = await kvGet(SEARCH_KV_PREFIX + id);
      if (raw === undefined) throw new SearchCliError(`no search ${id} on this cluster (see dhts search list)`);
      const status = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8')) as SearchStatus;
      const line = formatProgress(status.progress);
      if (line !== last) io.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      last = line;
      if (status.state !== 'running') {
        if (tty) io.stderr.write('\n');
        io.stderr.write(`search ${id} ${status.state}${status.reason ? `: ${status.reason}` : ''}${status.error ? `: ${status.error}` : ''}\n`);
        if (status.best) printBest(io, 'maximize', status.best.id, status.best.objective, status.best.parameters, status.logDir);
        return status.state === 'failed' ? 1 : 0;
      }
      if (detached) {
        io.stderr.write(`\ndetached; the search goes on (dhts search attach ${id})\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `dhts search list | attach <id> | stop <id>` for searches running on the cluster. */
function registerClusterSubcommands(search: Command, io: SearchCliIo): void {
  const withCluster = async (address: string | undefined, fn: () => Promise<number>) => {
    const { init, shutdown } = await import('../../client/index.js');
    // `dhts search --address A list` parses --address as the parent's option.
    address ??= (search.opts() as { address?: string }).address;
    try {
      await init({ address: address ?? 'auto', logToDriver: false });
      process.exitCode = await fn();
    } catch (err) {
      io.stderr.write(`dhts search: ${(err as Error).message}\n`);
      process.exitCode = err instanceof SearchCliError ? 2 : 1;
    } finally {
      await shutdown();
    }
  };
  search
    .command('list')
    .description('searches started on the cluster with --address, and their state')
    .option('--address <addr>', 'cluster address (default: auto)')
    .action(async (o: { address?: string }) =>
      withCluster(o.address, async () => {
        const { kvGet, kvList } = await import('../../client/index.js');
        const { SEARCH_KV_PREFIX } = await import('../../client/search/search-actor.js');
        const keys = (await kvList(SEARCH_KV_PREFIX)).sort();
        if (keys.length === 0) io.stdout.write('no search on this cluster\n');
        for (const key of keys) {
          const raw = await kvGet(key);
          if (raw === undefined) continue;
          const s = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8')) as SearchStatus;
          const best = s.progress.best === undefined ? '-' : Number(s.progress.best.toPrecision(6));
          io.stdout.write(`${s.id}\t${s.state}\t${s.progress.done}/${s.progress.maxEvals} done\tbest ${best}\t${s.host}:${s.logDir}\n`);
        }
        return 0;
      }),
    );
  search
    .command('attach <id>')
    .description('follow the progress of a cluster search (Ctrl-C detaches)')
    .option('--address <addr>', 'cluster address (default: auto)')
    .action(async (id: string, o: { address?: string }) => withCluster(o.address, () => follow(id, io)));
  search
    .command('stop <id>')
    .description('stop a cluster search (its journal stays resumable with --resume)')
    .option('--address <addr>', 'cluster address (default: auto)')
    .action(async (id: string, o: { address?: string }) =>
      withCluster(o.address, async () => {
        const { getActor, get, kill } = await import('../../client/index.js');
        const { searchActorName } = await import('../../client/search/search-actor.js');
        let actor: ActorHandle<SearchActor>;
        try {
          actor = await getActor<SearchActor>(searchActorName(id));
        } catch (err) {
          throw new SearchCliError(`no running search ${id} on this cluster (see dhts search list)`, { cause: err });
        }
        await get(actor.stop.remote());
        const code = await follow(id, { ...io, stderr: io.stderr });
        kill(actor);
        return code;
      }),
    );
}

function negate(o: number | number[]): number | number[] {
  return Array.isArray(o) ? o.map((v) => -v) : -o;
}
