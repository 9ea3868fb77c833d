// Evaluator.create: one entry point for every backend and for command objectives.
import type { Evaluator } from './evaluator.js';
import { EvaluatorError } from './errors.js';
import { moduleSpecifier } from './module.js';
import { SerialEvaluator } from './serial.js';
import type { CommandSpec, EvaluatorMethod, EvaluatorOptions, RunFunction } from './types.js';
import { WorkerPoolEvaluator } from './workers.js';
import type { CommandRunArgs } from './command.js';
import { commandPlaceholders } from './template.js';

const METHODS: readonly EvaluatorMethod[] = ['serial', 'thread', 'process', 'cluster'];
const COMMAND_MODULE = new URL('./command.js', import.meta.url).href;
const DEFAULT_KILL_GRACE_MS = 2000;

/** Everything a backend needs to run one kind of objective. */
export interface ResolvedSource {
  specifier: string;
  exportName: string;
  runKwargs: unknown;
  /** Pool-level timeout (a backstop for command objectives, which time themselves out to keep their stderr). */
  timeoutMs?: number;
}

export async function createEvaluator(
  source: URL | string | RunFunction | CommandSpec,
  exportNameOrOptions?: string | EvaluatorOptions,
  maybeOptions?: EvaluatorOptions,
): Promise<Evaluator> {
  const options: EvaluatorOptions = (typeof exportNameOrOptions === 'string' ? maybeOptions : exportNameOrOptions) ?? {};
  const method = options.method ?? 'serial';
  if (!METHODS.includes(method)) {
    throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', `method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  }
  const numWorkers = options.numWorkers ?? 1;
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const common = { numWorkers, killGraceMs };

  if (typeof source === 'function') {
    if (method !== 'serial') {
      throw new EvaluatorError(
        'EVALUATOR_BAD_OPTIONS',
        `a function can only run with method "serial"; for "${method}" pass its module URL and export name: Evaluator.create(new URL('./objective.js', import.meta.url), 'run', ...)`,
      );
    }
    return new SerialEvaluator(source, { ...common, timeoutMs: options.timeoutMs, runKwargs: options.runKwargs });
  }

  const resolved = resolveSource(source, typeof exportNameOrOptions === 'string' ? exportNameOrOptions : undefined, options, killGraceMs);
  switch (method) {
    case 'serial':
      return new SerialEvaluator({ specifier: resolved.specifier, exportName: resolved.exportName }, { ...common, timeoutMs: resolved.timeoutMs, runKwargs: resolved.runKwargs });
    case 'thread':
    case 'process':
      return new WorkerPoolEvaluator(method, resolved.specifier, resolved.exportName, {
        ...common,
        timeoutMs: resolved.timeoutMs,
        runKwargs: resolved.runKwargs,
        execArgv: options.execArgv,
      });
    case 'cluster': {
      const { ClusterEvaluator } = await import('./cluster.js');
      return ClusterEvaluator.create(resolved, { ...common, resources: options.resources, address: options.address });
    }
  }
}

export function resolveSource(source: URL | string | CommandSpec, exportName: string | undefined, options: EvaluatorOptions, killGraceMs: number): ResolvedSource {
  if (typeof source === 'object' && !(source instanceof URL)) {
    if (typeof source.command !== 'string') {
      throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', 'a command objective needs { command: "program --flag {name}" }');
    }
    commandPlaceholders(source.command);
    const runKwargs: CommandRunArgs = { ...source, killGraceMs: source.killGraceMs ?? killGraceMs, timeoutMs: options.timeoutMs };
    const backstop = options.timeoutMs !== undefined ? options.timeoutMs + 2 * (runKwargs.killGraceMs ?? killGraceMs) + 1000 : undefined;
    return { specifier: COMMAND_MODULE, exportName: 'runCommandObjective', runKwargs, timeoutMs: backstop };
  }
  if (!exportName) {
    throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', `name the exported run function: Evaluator.create(moduleUrl, 'run', options)`);
  }
  return { specifier: moduleSpecifier(source), exportName, runKwargs: options.runKwargs, timeoutMs: options.timeoutMs };
}
