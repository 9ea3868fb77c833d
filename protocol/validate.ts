/**
 * Hand-written validators for inbound messages. They check shape and types field by field (no schema library on
 * the hot path) and throw ProtocolError naming the message type and field. Unknown fields are ignored.
 */
import { ProtocolError, type WireError } from './errors.js';
import type { Message, MessageType, RefArg, SchedulingStrategy, TaskResult } from './messages.js';

type Obj = Record<string, unknown>;

function fail(type: string, field: string, want: string): never {
  throw new ProtocolError(`invalid '${type}' message: field '${field}' must be ${want}`);
}
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
function str(m: Obj, t: string, k: string): void {
  if (typeof m[k] !== 'string') fail(t, k, 'a string');
}
function optStr(m: Obj, t: string, k: string): void {
  if (m[k] !== undefined && typeof m[k] !== 'string') fail(t, k, 'a string');
}
function num(m: Obj, t: string, k: string): void {
  if (typeof m[k] !== 'number' || !Number.isFinite(m[k])) fail(t, k, 'a finite number');
}
function int(m: Obj, t: string, k: string): void {
  if (!Number.isInteger(m[k])) fail(t, k, 'an integer');
}
function bool(m: Obj, t: string, k: string): void {
  if (typeof m[k] !== 'boolean') fail(t, k, 'a boolean');
}
function bin(m: Obj, t: string, k: string): void {
  if (!(m[k] instanceof Uint8Array)) fail(t, k, 'binary');
}
function optBin(m: Obj, t: string, k: string): void {
  if (m[k] !== undefined && !(m[k] instanceof Uint8Array)) fail(t, k, 'binary');
}
function strArray(m: Obj, t: string, k: string): void {
  const v = m[k];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(t, k, 'an array of strings');
}
function intArray(v: unknown, t: string, k: string): void {
  if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x))) fail(t, k, 'an array of integers');
}
function resources(v: unknown, t: string, k: string): void {
  if (!isObj(v)) fail(t, k, 'a map of resource quantities');
  for (const [name, q] of Object.entries(v)) {
    if (typeof q !== 'number' || !Number.isFinite(q) || q < 0) fail(t, `${k}.${name}`, 'a non-negative number');
  }
}
function labels(v: unknown, t: string, k: string): void {
  if (!isObj(v)) fail(t, k, 'a map of strings');
  for (const [name, s] of Object.entries(v)) if (typeof s !== 'string') fail(t, `${k}.${name}`, 'a string');
}
function exportRef(v: unknown, t: string, k: string): void {
  if (!isObj(v) || typeof v.module !== 'string' || typeof v.name !== 'string') fail(t, k, '{ module, name } strings');
}
function wireError(v: unknown, t: string, k: string): asserts v is WireError {
  if (!isObj(v) || typeof v.code !== 'string' || typeof v.message !== 'string' || typeof v.name !== 'string') {
    fail(t, k, 'an error { code, name, message }');
  }
}
function strategy(v: unknown, t: string, k: string): asserts v is SchedulingStrategy {
  if (v === 'DEFAULT' || v === 'SPREAD') return;
  if (isObj(v) && v.type === 'NODE_AFFINITY' && typeof v.nodeId === 'string' && typeof v.soft === 'boolean') return;
  fail(t, k, "'DEFAULT', 'SPREAD' or { type: 'NODE_AFFINITY', nodeId, soft }");
}
function refArgs(m: Obj, t: string): void {
  const v = m.refArgs;
  if (v === undefined) return;
  if (!Array.isArray(v)) fail(t, 'refArgs', 'an array');
  for (const a of v as unknown[]) {
    if (!isObj(a) || !Number.isInteger(a.index) || typeof a.objectId !== 'string') fail(t, 'refArgs[]', '{ index, objectId }');
    const r = a as unknown as RefArg;
    if (r.data !== undefined && !(r.data instanceof Uint8Array)) fail(t, 'refArgs[].data', 'binary');
    if (r.holder !== undefined && typeof r.holder !== 'string') fail(t, 'refArgs[].holder', 'a string');
    if (r.error !== undefined) wireError(r.error, t, 'refArgs[].error');
  }
}
function result(v: unknown, t: string): asserts v is TaskResult {
  if (!isObj(v) || typeof v.ok !== 'boolean') fail(t, 'result', '{ ok, … }');
  optBin(v, t, 'result.data');
  optStr(v, t, 'result.holder');
  if (v.error !== undefined) wireError(v.error, t, 'result.error');
  if (!v.ok && v.error === undefined) fail(t, 'result.error', 'present when ok is false');
  if (v.borrowed !== undefined) {
    const b = v.borrowed;
    if (!isObj(b) || typeof b.by !== 'string' || !Array.isArray(b.ids) || b.ids.some((x) => typeof x !== 'string')) {
      fail(t, 'result.borrowed', '{ by: string, ids: string[] }');
    }
  }
}

const validators: { [K in MessageType]: (m: Obj, t: K) => void } = {
  hello(m, t) {
    int(m, t, 'version');
    if (m.role !== 'agent' && m.role !== 'driver' && m.role !== 'worker') fail(t, 'role', "'agent', 'driver' or 'worker'");
    str(m, t, 'token');
    int(m, t, 'pid');
    str(m, t, 'hostname');
    optStr(m, t, 'nodeId');
    optStr(m, t, 'workerId');
    optStr(m, t, 'namespace');
    if (m.resources !== undefined) resources(m.resources, t, 'resources');
    if (m.labels !== undefined) labels(m.labels, t, 'labels');
    if (m.gpuIds !== undefined) intArray(m.gpuIds, t, 'gpuIds');
    if (m.isHead !== undefined) bool(m, t, 'isHead');
  },
  welcome(m, t) {
    int(m, t, 'version');
    str(m, t, 'connId');
    optStr(m, t, 'nodeId');
    num(m, t, 'heartbeatMs');
  },
  error(m, t) {
    wireError(m.error, t, 'error');
  },
  heartbeat() {},
  submit(m, t) {
    str(m, t, 'taskId');
    exportRef(m.fn, t, 'fn');
    bin(m, t, 'args');
    refArgs(m, t);
    const o = m.opts;
    if (!isObj(o)) fail(t, 'opts', 'an object');
    resources(o.resources, t, 'opts.resources');
    int(o, t, 'maxRetries');
    bool(o, t, 'retryExceptions');
    strategy(o.strategy, t, 'opts.strategy');
    if (o.env !== undefined) labels(o.env, t, 'opts.env');
    optStr(o, t, 'name');
  },
  createActor(m, t) {
    str(m, t, 'actorId');
    exportRef(m.cls, t, 'cls');
    bin(m, t, 'args');
    refArgs(m, t);
    bool(m, t, 'getIfExists');
    int(m, t, 'reqId');
    const o = m.opts;
    if (!isObj(o)) fail(t, 'opts', 'an object');
    resources(o.resources, t, 'opts.resources');
    resources(o.placement, t, 'opts.placement');
    int(o, t, 'maxRestarts');
    int(o, t, 'maxTaskRetries');
    int(o, t, 'maxConcurrency');
    if ((o.maxConcurrency as number) < 1) fail(t, 'opts.maxConcurrency', '>= 1');
    optStr(o, t, 'name');
    str(o, t, 'namespace');
    bool(o, t, 'detached');
    strategy(o.strategy, t, 'opts.strategy');
    if (o.env !== undefined) labels(o.env, t, 'opts.env');
  },
  callActor(m, t) {
    str(m, t, 'taskId');
    str(m, t, 'actorId');
    str(m, t, 'method');
    bin(m, t, 'args');
    refArgs(m, t);
    if (m.lostFrom !== undefined) int(m, t, 'lostFrom');
  },
  cancel(m, t) {
    str(m, t, 'taskId');
    bool(m, t, 'force');
  },
  killActor(m, t) {
    str(m, t, 'actorId');
    bool(m, t, 'noRestart');
  },
  request(m, t) {
    int(m, t, 'reqId');
    const ops = ['getActor', 'nodes', 'status', 'kvPut', 'kvGet', 'kvDelete', 'kvList'];
    if (typeof m.op !== 'string' || !ops.includes(m.op)) fail(t, 'op', `one of ${ops.join(', ')}`);
    optStr(m, t, 'name');
    optStr(m, t, 'namespace');
    optStr(m, t, 'key');
    optStr(m, t, 'prefix');
    if (m.value !== undefined && typeof m.value !== 'string' && !(m.value instanceof Uint8Array)) fail(t, 'value', 'a string or binary');
    if (m.overwrite !== undefined) bool(m, t, 'overwrite');
    if ((m.op === 'kvPut' || m.op === 'kvGet' || m.op === 'kvDelete') && typeof m.key !== 'string') fail(t, 'key', 'a string');
    if (m.op === 'kvPut' && m.value === undefined) fail(t, 'value', 'present for kvPut');
    if (m.op === 'getActor') str(m, t, 'name');
  },
  reply(m, t) {
    int(m, t, 'reqId');
    bool(m, t, 'ok');
    if (m.error !== undefined) wireError(m.error, t, 'error');
  },
  fetch(m, t) {
    int(m, t, 'reqId');
    str(m, t, 'objectId');
    str(m, t, 'peer');
  },
  fetched(m, t) {
    int(m, t, 'reqId');
    str(m, t, 'peer');
    bool(m, t, 'ok');
    optBin(m, t, 'data');
    optStr(m, t, 'holder');
    if (m.error !== undefined) wireError(m.error, t, 'error');
  },
  free(m, t) {
    str(m, t, 'peer');
    strArray(m, t, 'ids');
  },
  taskBlocked(m, t) {
    str(m, t, 'taskId');
    bool(m, t, 'blocked');
  },
  runTask(m, t) {
    str(m, t, 'taskId');
    exportRef(m.fn, t, 'fn');
    bin(m, t, 'args');
    refArgs(m, t);
    if (m.gpuIds !== undefined) intArray(m.gpuIds, t, 'gpuIds');
    int(m, t, 'attempt');
  },
  startActor(m, t) {
    str(m, t, 'actorId');
    exportRef(m.cls, t, 'cls');
    bin(m, t, 'args');
    refArgs(m, t);
    int(m, t, 'maxConcurrency');
    if (m.gpuIds !== undefined) intArray(m.gpuIds, t, 'gpuIds');
    int(m, t, 'restarts');
  },
  runActorTask(m, t) {
    str(m, t, 'taskId');
    str(m, t, 'method');
    bin(m, t, 'args');
    refArgs(m, t);
  },
  taskDone(m, t) {
    str(m, t, 'taskId');
    result(m.result, t);
  },
  actorReady(m, t) {
    str(m, t, 'actorId');
    bool(m, t, 'ok');
    if (m.error !== undefined) wireError(m.error, t, 'error');
    optStr(m, t, 'directAddress');
  },
  actorLocation(m, t) {
    str(m, t, 'actorId');
    optStr(m, t, 'address');
    int(m, t, 'incarnation');
  },
  exitIfIdle() {},
  flow(m, t) {
    bool(m, t, 'paused');
  },
  exitReply(m, t) {
    bool(m, t, 'exiting');
  },
  interrupt(m, t) {
    str(m, t, 'taskId');
  },
  startWorker(m, t) {
    str(m, t, 'workerId');
    optStr(m, t, 'actorId');
    labels(m.env, t, 'env');
    if (m.runtimeEnvVars !== undefined) labels(m.runtimeEnvVars, t, 'runtimeEnvVars');
  },
  killWorker(m, t) {
    str(m, t, 'workerId');
  },
  workerExit(m, t) {
    str(m, t, 'workerId');
    int(m, t, 'pid');
    if (m.code !== null && !Number.isInteger(m.code)) fail(t, 'code', 'an integer or null');
    if (m.signal !== null && typeof m.signal !== 'string') fail(t, 'signal', 'a string or null');
  },
  log(m, t) {
    str(m, t, 'workerId');
    int(m, t, 'pid');
    str(m, t, 'nodeId');
    if (m.stream !== 'stdout' && m.stream !== 'stderr') fail(t, 'stream', "'stdout' or 'stderr'");
    strArray(m, t, 'lines');
  },
};

/** Checks one decoded message; returns it typed, or throws ProtocolError. */
export function validateMessage(value: unknown): Message {
  if (!isObj(value)) throw new ProtocolError('invalid message: not an object');
  const type = value.type;
  if (typeof type !== 'string' || !Object.hasOwn(validators, type)) {
    throw new ProtocolError(`invalid message: unknown type ${JSON.stringify(type)}`);
  }
  (validators[type as MessageType] as (m: Obj, t: string) => void)(value, type);
  return value as unknown as Message;
}
