/**
 * User-facing options for tasks and actors (Ray's names in camelCase) and their defaults, in one place:
 * tasks numCpus 1, maxRetries 3, retryExceptions false; actors maxRestarts 0, maxTaskRetries 0, maxConcurrency 1,
 * lifetime non-detached; schedulingStrategy 'DEFAULT'.
 */
import { InvalidArgumentError, type ActorOptions, type Resources, type SchedulingStrategy, type TaskOptions } from '../../protocol/index.js';

export const TASK_DEFAULTS = { numCpus: 1, maxRetries: 3, retryExceptions: false } as const;
export const ACTOR_DEFAULTS = { maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, namespace: 'default' } as const;

/** Ray's NodeAffinitySchedulingStrategy: run on that node; `soft` lets it run elsewhere when the node cannot. */
export class NodeAffinitySchedulingStrategy {
  readonly type = 'NODE_AFFINITY' as const;
  constructor(
    readonly nodeId: string,
    readonly soft = false,
  ) {}
}

export type SchedulingStrategyInput = 'DEFAULT' | 'SPREAD' | NodeAffinitySchedulingStrategy;

interface CommonOptions {
  numCpus?: number;
  numGpus?: number;
  /** Bytes. */
  memory?: number;
  resources?: Record<string, number>;
  schedulingStrategy?: SchedulingStrategyInput;
  /** Ray's runtime_env, per task/actor: `env` vars for the worker process, merged over the driver's/job's. */
  runtimeEnv?: { env?: Record<string, string> };
}

function envOf(o: CommonOptions): Record<string, string> | undefined {
  const env = o.runtimeEnv?.env;
  if (env === undefined) return undefined;
  if (typeof env !== 'object' || env === null) throw new InvalidArgumentError('option runtimeEnv.env must be a map of strings');
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`option runtimeEnv.env.${k} must be a string, got ${typeof v}`);
    if (!k || k.includes('=') || k.includes('\0')) throw new InvalidArgumentError(`option runtimeEnv.env: '${k}' is not a valid variable name`);
  }
  return Object.keys(env).length ? { ...env } : undefined;
}

/** `{ env }` only when there is one: nothing extra to encode for the plain pool's submissions. */
function withEnv(o: CommonOptions): { env?: Record<string, string> } {
  const env = envOf(o);
  return env ? { env } : {};
}

/** The env a worker runs with: the driver's/job's vars, overridden by the task's/actor's own (Ray's precedence). */
export function mergeEnv<O extends { env?: Record<string, string> }>(opts: O, inherited: Record<string, string> | undefined): O {
  if (!inherited || Object.keys(inherited).length === 0) return opts;
  return { ...opts, env: { ...inherited, ...(opts.env ?? {}) } };
}

export interface TaskOptionsInput extends CommonOptions {
  maxRetries?: number;
  retryExceptions?: boolean;
  name?: string;
  /** Overrides the class/function guess made from the export name's case. */
  kind?: 'task';
}

export interface ActorOptionsInput extends CommonOptions {
  maxRestarts?: number;
  maxTaskRetries?: number;
  maxConcurrency?: number;
  name?: string;
  namespace?: string;
  lifetime?: 'detached' | 'non_detached';
  getIfExists?: boolean;
  kind?: 'actor';
}

function check(name: string, v: number | undefined, min: number, integer = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(`option ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`);
  }
}

function resourcesOf(o: CommonOptions, defaultCpus: number): Resources {
  check('numCpus', o.numCpus, 0);
  check('numGpus', o.numGpus, 0);
  check('memory', o.memory, 0);
  const r: Resources = { CPU: o.numCpus ?? defaultCpus };
  if (o.numGpus) r.GPU = o.numGpus;
  if (o.memory) r.memory = o.memory;
  for (const [k, v] of Object.entries(o.resources ?? {})) {
    if (k === 'CPU' || k === 'GPU' || k === 'memory') throw new InvalidArgumentError(`use numCpus/numGpus/memory instead of resources.${k}`);
    check(`resources.${k}`, v, 0);
    r[k] = v;
  }
  if (r.CPU === 0) delete r.CPU;
  return r;
}

function strategyOf(s: SchedulingStrategyInput | undefined): SchedulingStrategy {
  if (s === undefined || s === 'DEFAULT' || s === 'SPREAD') return s ?? 'DEFAULT';
  if (s instanceof NodeAffinitySchedulingStrategy || (typeof s === 'object' && (s as { type?: string }).type === 'NODE_AFFINITY')) {
    return { type: 'NODE_AFFINITY', nodeId: s.nodeId, soft: Boolean(s.soft) };
  }
  throw new InvalidArgumentError(`schedulingStrategy must be 'DEFAULT', 'SPREAD' or a NodeAffinitySchedulingStrategy, got ${JSON.stringify(s)}`);
}

export function taskOptions(o: TaskOptionsInput): TaskOptions {
  check('maxRetries', o.maxRetries, -1, true);
  return {
    resources: resourcesOf(o, TASK_DEFAULTS.numCpus),
    maxRetries: o.maxRetries ?? TASK_DEFAULTS.maxRetries,
    retryExceptions: o.retryExceptions ?? TASK_DEFAULTS.retryExceptions,
    strategy: strategyOf(o.schedulingStrategy),
    name: o.name,
    ...withEnv(o),
  };
}

export function actorOptions(o: ActorOptionsInput, defaultNamespace: string): ActorOptions {
  check('maxRestarts', o.maxRestarts, -1, true);
  check('maxTaskRetries', o.maxTaskRetries, -1, true);
  check('maxConcurrency', o.maxConcurrency, 1, true);
  if (o.lifetime !== undefined && o.lifetime !== 'detached' && o.lifetime !== 'non_detached') {
    throw new InvalidArgumentError(`lifetime must be 'detached' or 'non_detached', got ${JSON.stringify(o.lifetime)}`);
  }
  if (o.getIfExists && o.name === undefined) throw new InvalidArgumentError('getIfExists needs a name');
  const specified = o.numCpus !== undefined || o.numGpus !== undefined || o.memory !== undefined || o.resources !== undefined;
  // Ray: an actor with no resources given needs 1 CPU to be placed but holds none while it lives.
  const resources = specified ? resourcesOf(o, 1) : {};
  return {
    resources,
    placement: specified ? resources : { CPU: 1 },
    maxRestarts: o.maxRestarts ?? ACTOR_DEFAULTS.maxRestarts,
    maxTaskRetries: o.maxTaskRetries ?? ACTOR_DEFAULTS.maxTaskRetries,
    maxConcurrency: o.maxConcurrency ?? ACTOR_DEFAULTS.maxConcurrency,
    name: o.name,
    namespace: o.namespace ?? defaultNamespace,
    detached: o.lifetime === 'detached',
    strategy: strategyOf(o.schedulingStrategy),
    ...withEnv(o),
  };
}
