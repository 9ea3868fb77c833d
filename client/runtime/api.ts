/**
 * The Ray-shaped SDK functions: init/shutdown, get/wait/put, cancel/kill, getActor, cluster information and the
 * internal key-value store. They act on the process-wide runtime (a driver's, or the worker's own inside tasks).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  ConnectionClosedError,
  InvalidArgumentError,
  isListening,
  RuntimeError,
  type ClusterStatus,
  type NodeInfo,
  type Resources,
} from '../../protocol/index.js';
import { CoreClient } from './core.js';
import { ObjectRef } from './object-ref.js';
import { isActorHandle, makeActorHandle, setModuleUrlMapper, type ActorHandle } from './remote.js';
import { getCore, getRuntime, setRuntime } from './state.js';
import { terminateChild } from '../../daemon/child-process.js';

export const DEFAULT_TEMP_DIR = '/tmp/dhts';
const ADDRESS_FILE = 'dhts_current_cluster';
const TOKEN_FILE = 'token';

export interface InitOptions {
  /** undefined: the running cluster of this host if any, else a new embedded one; 'auto': must find one;
   *  'local': always a new embedded cluster; or 'host:port'. DHTS_ADDRESS overrides undefined and 'auto'. */
  address?: string;
  /** Cluster token; default DHTS_TOKEN, then the head's token file on this host. */
  token?: string;
  namespace?: string;
  /** Where the address and token files are (default DHTS_TEMP_DIR or /tmp/dhts). */
  tempDir?: string;
  /** Embedded cluster only: CPUs and GPUs of its one agent (default: the machine's). */
  numCpus?: number;
  numGpus?: number;
  resources?: Resources;
  /** Embedded cluster only: how fast a lost node is declared dead. */
  nodeTimeoutMs?: number;
  /** Print workers' stdout/stderr here, prefixed with their pid and node (default true). */
  logToDriver?: boolean;
  /** Calling init() twice returns quietly instead of throwing. */
  ignoreReinitError?: boolean;
  /** workingDir: packed (honouring .gitignore and excludes) and uploaded once by content hash; workers on every
   *  node import this directory's modules from their own unpacked copy (see daemon/jobs/working-dir.ts). */
  /** env: vars set in every worker that runs this driver's tasks and actors (Ray's runtime_env env_vars), merged
   *  over a submitted job's env vars; a task's or actor's own `.options({ runtimeEnv: { env } })` wins over both. */
  runtimeEnv?: { workingDir?: string; excludes?: string[]; env?: Record<string, string> };
}

export interface InitInfo {
  address: string;
  namespace: string;
  nodeId: string | undefined;
  /** True when init() started its own local cluster. */
  embedded: boolean;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function isInitialized(): boolean {
  return getRuntime() !== undefined;
}

export async function init(options: InitOptions = {}): Promise<InitInfo> {
  const existing = getRuntime();
  if (existing) {
    if (existing.isWorker || options.ignoreReinitError) {
      return { address: existing.core.options.address, namespace: existing.core.namespace, nodeId: existing.core.nodeId, embedded: false };
    }
    throw new ConfigError('init() was already called in this process (call shutdown() first, or pass ignoreReinitError)');
  }
  const namespace = options.namespace ?? process.env.DHTS_NAMESPACE ?? 'default';
  const tempDir = options.tempDir ?? process.env.DHTS_TEMP_DIR ?? DEFAULT_TEMP_DIR;
  let address = options.address;
  if ((address === undefined || address === 'auto') && process.env.DHTS_ADDRESS) address = process.env.DHTS_ADDRESS;
  if (address === undefined || address === 'auto') {
    const fromFile = await readText(join(tempDir, ADDRESS_FILE));
    if (fromFile && (await isListening(fromFile, 2000))) address = fromFile;
    else if (address === 'auto') {
      throw new ConnectionClosedError(
        `could not find a running cluster: DHTS_ADDRESS is not set and ${join(tempDir, ADDRESS_FILE)} ${fromFile ? `names ${fromFile}, which does not answer` : 'does not exist'} (start one with \`dhts start --head\`)`,
      );
    }
  }
  if (address === undefined || address === 'local') return withRuntimeEnv(options, await startEmbedded(options, namespace));
  const token = options.token ?? process.env.DHTS_TOKEN ?? (await readText(join(tempDir, TOKEN_FILE)));
  if (!token) throw new ConfigError(`no cluster token for ${address}: pass init({ token }), set DHTS_TOKEN, or run on the head's host (${join(tempDir, TOKEN_FILE)})`);
  const core = await CoreClient.connect({ address, token, role: 'driver', namespace, logToDriver: options.logToDriver });
  core.actorHandleFactory = (actorId, className) => makeActorHandle(actorId, className);
  setRuntime({ core, isWorker: false });
  return withRuntimeEnv(options, { address, namespace, nodeId: core.nodeId, embedded: false });
}

/** Uploads runtimeEnv.workingDir and maps module URLs inside it to the package, so any node can import them. */
async function withRuntimeEnv(options: InitOptions, info: InitInfo): Promise<InitInfo> {
  const env = { ...jobEnvVars(), ...(options.runtimeEnv?.env ?? {}) };
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`init(): runtimeEnv.env.${k} must be a string, got ${typeof v}`);
  }
  getCore().runtimeEnvVars = Object.keys(env).length ? env : undefined;
  const dir = options.runtimeEnv?.workingDir;
  if (!dir) return info;
  const { uploadDriverWorkingDir } = await import('../../daemon/jobs/working-dir.js');
  const uploaded = await uploadDriverWorkingDir(dir, { get: kvGet, put: kvPut }, options.runtimeEnv?.excludes);
  setModuleUrlMapper(uploaded.toPackageUrl);
  return info;
}

/** A submitted job's entrypoint finds the job's runtime env in DHTS_RUNTIME_ENV (set by the job manager). */
function jobEnvVars(): Record<string, string> {
  const raw = process.env.DHTS_RUNTIME_ENV;
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as { envVars?: Record<string, string> };
    return parsed.envVars && typeof parsed.envVars === 'object' ? { ...parsed.envVars } : {};
  } catch (e) {
    throw new ConfigError(`DHTS_RUNTIME_ENV is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

interface ReadyMessage {
  kind: 'ready' | 'failed';
  address?: string;
  token?: string;
  message?: string;
}

/** Starts a head and one agent (sized to the machine) as a child process that dies with this one. */
async function startEmbedded(options: InitOptions, namespace: string): Promise<InitInfo> {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-embedded-'));
  const cli = fileURLToPath(new URL('../../daemon/cli/main.js', import.meta.url));
  const args = [cli, 'start', '--head', '--block', '--port', '0', '--temp-dir', dir, '--exit-with-parent'];
  if (options.numCpus !== undefined) args.push('--num-cpus', String(options.numCpus));
  if (options.numGpus !== undefined) args.push('--num-gpus', String(options.numGpus));
  if (options.resources) args.push('--resources', JSON.stringify(options.resources));
  if (options.nodeTimeoutMs !== undefined) args.push('--node-timeout-ms', String(options.nodeTimeoutMs));
  const logFd = openSync(join(dir, 'daemon.log'), 'a');
  const child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd, 'ipc'] });
  closeSync(logFd);
  const ready = await new Promise<ReadyMessage>((resolve) => {
    child.once('message', (m: ReadyMessage) => resolve(m));
    child.once('exit', (code) => resolve({ kind: 'failed', message: `embedded cluster exited with code ${code} (log: ${join(dir, 'daemon.log')})` }));
  });
  if (ready.kind !== 'ready' || !ready.address || !ready.token) {
    child.kill('SIGKILL');
    throw new ConfigError(`could not start the embedded cluster: ${ready.message ?? 'no address'}`);
  }
  // Neither the IPC channel nor the child may keep this process alive; the child exits when the channel closes.
  child.unref();
  child.channel?.unref();
  let core: CoreClient;
  try {
    core = await CoreClient.connect({ address: ready.address, token: ready.token, role: 'driver', namespace, logToDriver: options.logToDriver });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  core.actorHandleFactory = (actorId, className) => makeActorHandle(actorId, className);
  const stopCluster = async () => {
    await terminateChild(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  setRuntime({ core, isWorker: false, stopCluster });
  return { address: ready.address, namespace, nodeId: core.nodeId, embedded: true };
}

/** Disconnects; stops the embedded cluster if init() started one. Non-detached actors of this driver die. */
export async function shutdown(): Promise<void> {
  const rt = getRuntime();
  if (!rt || rt.isWorker) return;
  setRuntime(undefined);
  setModuleUrlMapper(undefined);
  rt.core.close();
  await rt.stopCluster?.();
}

export interface GetOptions {
  /** Raise GetTimeoutError after this long (0: only what is ready now). */
  timeoutMs?: number;
}

export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<T extends readonly ObjectRef[]>(refs: T, options?: GetOptions): Promise<{ [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
export function get<T>(refs: readonly ObjectRef<T>[], options?: GetOptions): Promise<T[]>;
export async function get(refs: ObjectRef | readonly ObjectRef[], options: GetOptions = {}): Promise<unknown> {
  const core = getCore();
  if (refs instanceof ObjectRef) return (await core.get([refs], options.timeoutMs))[0];
  if (!Array.isArray(refs)) throw new InvalidArgumentError('get() expects an ObjectRef or an array of ObjectRefs');
  return core.get(refs, options.timeoutMs);
}

export interface WaitOptions {
  numReturns?: number;
  timeoutMs?: number;
  fetchLocal?: boolean;
}

/** Ray's wait: resolves to [ready, notReady], both in input order. */
export function wait<T>(refs: readonly ObjectRef<T>[], options: WaitOptions = {}): Promise<[ObjectRef<T>[], ObjectRef<T>[]]> {
  return getCore().wait(refs, options.numReturns ?? 1, options.timeoutMs, options.fetchLocal ?? true) as Promise<[ObjectRef<T>[], ObjectRef<T>[]]>;
}

export function put<T>(value: T): ObjectRef<T> {
  if (value instanceof ObjectRef) throw new InvalidArgumentError('put() of an ObjectRef is not allowed (pass the ref itself)');
  return getCore().put(value);
}

/** Cancels a task: a queued one is dropped, a running one interrupted (its signal fires) or, with force, killed. */
export function cancel(ref: ObjectRef, options: { force?: boolean } = {}): void {
  getCore().cancel(ref, options.force ?? false);
}

/** Kills an actor at once; with noRestart false it restarts if its maxRestarts allows. */
export function kill(actor: ActorHandle<unknown>, options: { noRestart?: boolean } = {}): void {
  if (!isActorHandle(actor)) throw new InvalidArgumentError('kill() expects an actor handle');
  getCore().send({ type: 'killActor', actorId: actor.actorId, noRestart: options.noRestart ?? true });
}

export async function getActor<T = Record<string, (...args: never[]) => unknown>>(name: string, options: { namespace?: string } = {}): Promise<ActorHandle<T>> {
  const core = getCore();
  const r = (await core.request('getActor', { name, namespace: options.namespace ?? core.namespace })) as { actorId: string; className: string };
  return makeActorHandle<T>(r.actorId, r.className);
}

/** Ray's node table entry. */
export interface RayNode {
  NodeID: string;
  Alive: boolean;
  NodeManagerAddress: string;
  NodeManagerHostname: string;
  NodeName: string;
  IsHead: boolean;
  Resources: Resources;
  Labels: Record<string, string>;
  DeathReasonMessage?: string;
}

export async function nodes(): Promise<RayNode[]> {
  const list = (await getCore().request('nodes')) as NodeInfo[];
  return list.map((n) => ({
    NodeID: n.nodeId,
    Alive: n.alive,
    NodeManagerAddress: n.address,
    NodeManagerHostname: n.hostname,
    NodeName: n.hostname,
    IsHead: n.isHead,
    Resources: n.total,
    Labels: n.labels,
    DeathReasonMessage: n.deathReason,
  }));
}

export async function clusterStatus(): Promise<ClusterStatus> {
  return (await getCore().request('status')) as ClusterStatus;
}

/** Totals over alive nodes. */
export async function clusterResources(): Promise<Resources> {
  const out: Resources = {};
  for (const n of (await getCore().request('nodes')) as NodeInfo[]) {
    if (!n.alive) continue;
    for (const [k, v] of Object.entries(n.total)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** What is free now over alive nodes; resources at 0 are omitted (as Ray does). */
export async function availableResources(): Promise<Resources> {
  const out: Resources = {};
  for (const n of (await getCore().request('nodes')) as NodeInfo[]) {
    if (!n.alive) continue;
    for (const [k, v] of Object.entries(n.available)) out[k] = (out[k] ?? 0) + v;
  }
  for (const k of Object.keys(out)) if (out[k]! <= 1e-9) delete out[k];
  return out;
}

// ---------------------------------------------------------------- internal key-value store

/** Stores a value; with overwrite false an existing key is kept and false returned. */
export async function kvPut(key: string, value: Uint8Array | string, options: { overwrite?: boolean } = {}): Promise<boolean> {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new InvalidArgumentError('kvPut: value must be a string or a Uint8Array');
  return (await getCore().request('kvPut', { key, value, overwrite: options.overwrite ?? true })) as boolean;
}

export async function kvGet(key: string): Promise<Uint8Array | string | undefined> {
  const v = (await getCore().request('kvGet', { key })) as Uint8Array | string | null;
  if (v === null) return undefined;
  return typeof v === 'string' ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export async function kvDelete(key: string): Promise<boolean> {
  return (await getCore().request('kvDelete', { key })) as boolean;
}

export async function kvList(prefix = ''): Promise<string[]> {
  return (await getCore().request('kvList', { prefix })) as string[];
}

export { RuntimeError };
