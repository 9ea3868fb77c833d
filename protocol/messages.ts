/**
 * Every message of the cluster protocol, defined once. A frame is a msgpack array of messages (see codec.ts); each
 * message is a plain object discriminated by `type`. Head, agents, workers and drivers all import these types, and the
 * receiving side checks each inbound message with `validateMessage` before it touches it.
 */
import type { WireError } from './errors.js';

export const PROTOCOL_VERSION = 1;

export type Role = 'agent' | 'driver' | 'worker';
export type Resources = Record<string, number>;
export type Labels = Record<string, string>;

/** A function or class is named by the URL of its module and the export name: closures cannot travel. */
export interface ExportRef {
  module: string;
  name: string;
}

export type SchedulingStrategy =
  | 'DEFAULT'
  | 'SPREAD'
  | { type: 'NODE_AFFINITY'; nodeId: string; soft: boolean };

export interface TaskOptions {
  /** What the task holds while it runs (CPU, GPU, memory, custom). */
  resources: Resources;
  maxRetries: number;
  retryExceptions: boolean;
  strategy: SchedulingStrategy;
  name?: string;
  /** Runtime env vars of the worker that runs it (driver/job-level merged under the task's own); workers are pooled
   *  per env, as Ray starts workers per runtime env. Absent or empty: the plain pool. */
  env?: Record<string, string>;
}

export interface ActorOptions {
  /** What the actor holds for its lifetime. */
  resources: Resources;
  /** What must be free to place it (Ray: 1 CPU when no resources were given, though it then holds 0). */
  placement: Resources;
  maxRestarts: number;
  maxTaskRetries: number;
  maxConcurrency: number;
  name?: string;
  namespace: string;
  detached: boolean;
  strategy: SchedulingStrategy;
  /** Runtime env vars of the actor's process (driver/job-level merged under the actor's own). */
  env?: Record<string, string>;
}

/** An ObjectRef given as a top-level argument, resolved by the caller before the call is sent. */
export interface RefArg {
  index: number;
  objectId: string;
  /** The value, serialized, when small. */
  data?: Uint8Array;
  /** Otherwise the connection id of the process holding the value, to fetch it from. */
  holder?: string;
  error?: WireError;
}

/** Outcome of a task or an actor call: inline value, value held by `holder`, or an error. */
export interface TaskResult {
  ok: boolean;
  data?: Uint8Array;
  holder?: string;
  size?: number;
  error?: WireError;
  /** Refs found in the call's arguments that the process `by` still holds (Ray's borrowers): their owners keep the
   *  values until `by` sends them `free` for those ids. */
  borrowed?: { by: string; ids: string[] };
}

export interface NodeInfo {
  nodeId: string;
  alive: boolean;
  hostname: string;
  address: string;
  isHead: boolean;
  total: Resources;
  available: Resources;
  labels: Labels;
  deathReason?: string;
  workers: number;
}

export interface ActorInfo {
  actorId: string;
  className: string;
  name?: string;
  namespace: string;
  state: 'PENDING' | 'ALIVE' | 'RESTARTING' | 'DEAD';
  nodeId?: string;
  pid?: number;
  restarts: number;
  deathCause?: string;
  detached: boolean;
  /** host:port where it takes direct calls (alive actors). */
  address?: string;
}

export interface PendingDemand {
  resources: Resources;
  count: number;
  /** True when no alive node could ever fit it. */
  infeasible: boolean;
}

export interface ClusterStatus {
  headAddress: string;
  nodes: NodeInfo[];
  actors: ActorInfo[];
  pendingDemands: PendingDemand[];
  tasks: { pending: number; running: number; finished: number };
  recentFailures: { nodeId: string; hostname: string; reason: string }[];
}

// ---------- handshake and liveness ----------
export interface Hello {
  type: 'hello';
  version: number;
  role: Role;
  token: string;
  pid: number;
  hostname: string;
  /** agent: the node id to (re)register under; worker: its node. */
  nodeId?: string;
  /** worker: the id the head gave when it asked the agent to start it. */
  workerId?: string;
  /** agent: what it offers. */
  resources?: Resources;
  labels?: Labels;
  /** agent: GPU indices it owns. */
  gpuIds?: number[];
  /** agent: it runs beside the head. */
  isHead?: boolean;
  namespace?: string;
}
export interface Welcome {
  type: 'welcome';
  version: number;
  connId: string;
  nodeId?: string;
  heartbeatMs: number;
}
/** Fatal error: the sender closes the connection after it. */
export interface ErrorMessage {
  type: 'error';
  error: WireError;
}
export interface Heartbeat {
  type: 'heartbeat';
}

// ---------- driver / worker -> head ----------
export interface Submit {
  type: 'submit';
  taskId: string;
  fn: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  opts: TaskOptions;
}
export interface CreateActor {
  type: 'createActor';
  actorId: string;
  cls: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  opts: ActorOptions;
  /** get_if_exists: reply with the existing actor of that name instead of failing. */
  getIfExists: boolean;
  reqId: number;
}
export interface CallActor {
  type: 'callActor';
  taskId: string;
  actorId: string;
  method: string;
  args: Uint8Array;
  refArgs?: RefArg[];
  /** Resent through the head: the call went straight to the actor's process of this incarnation (its restart
   *  count), and that connection closed before the answer came. The head decides between retry and failure. */
  lostFrom?: number;
}
export interface Cancel {
  type: 'cancel';
  taskId: string;
  force: boolean;
}
export interface KillActor {
  type: 'killActor';
  actorId: string;
  noRestart: boolean;
}
export type RequestOp = 'getActor' | 'nodes' | 'status' | 'kvPut' | 'kvGet' | 'kvDelete' | 'kvList';
export interface Request {
  type: 'request';
  reqId: number;
  op: RequestOp;
  name?: string;
  namespace?: string;
  key?: string;
  value?: Uint8Array | string;
  prefix?: string;
  overwrite?: boolean;
}
export interface Reply {
  type: 'reply';
  reqId: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}
/** Ask `peer` for an object's value; the head delivers it with `peer` set to the asker. */
export interface Fetch {
  type: 'fetch';
  reqId: number;
  objectId: string;
  peer: string;
}
/** Answer to a fetch: the value, another holder to ask, or an error. Routed like fetch. */
export interface Fetched {
  type: 'fetched';
  reqId: number;
  peer: string;
  ok: boolean;
  data?: Uint8Array;
  holder?: string;
  error?: WireError;
}
/** The owner tells a holder that values are no longer referenced. */
export interface Free {
  type: 'free';
  peer: string;
  ids: string[];
}
/** A worker's task waits in `get`: its CPUs are lent back so nested tasks can run (as Ray does). */
export interface TaskBlocked {
  type: 'taskBlocked';
  taskId: string;
  blocked: boolean;
}

// ---------- head -> worker, worker -> head ----------
export interface RunTask {
  type: 'runTask';
  taskId: string;
  fn: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  gpuIds?: number[];
  attempt: number;
}
export interface StartActor {
  type: 'startActor';
  actorId: string;
  cls: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  maxConcurrency: number;
  gpuIds?: number[];
  restarts: number;
}
export interface RunActorTask {
  type: 'runActorTask';
  taskId: string;
  method: string;
  args: Uint8Array;
  refArgs?: RefArg[];
}
export interface TaskDone {
  type: 'taskDone';
  taskId: string;
  result: TaskResult;
}
export interface ActorReady {
  type: 'actorReady';
  actorId: string;
  ok: boolean;
  error?: WireError;
  /** host:port where the actor's process takes calls straight from callers (Ray's direct actor calls). */
  directAddress?: string;
}
/** Head -> caller: where an actor takes direct calls, for the incarnation `incarnation` (its restart count). The
 *  caller may connect there and send `callActor`/`cancel`; answers come back as `taskDone` on that connection.
 *  Without `address`: that incarnation is gone; calls in flight on it go back to the head (with `lostFrom`). */
export interface ActorLocation {
  type: 'actorLocation';
  actorId: string;
  address?: string;
  incarnation: number;
}
/** Backpressure: the head's task queue is full; the submitter keeps new submissions to itself until `paused: false`,
 *  while its control messages (cancel, kill, requests) still flow. */
export interface Flow {
  type: 'flow';
  paused: boolean;
}
/** Head asks an idle worker to exit (idle reaping). It does unless it still owns or holds objects, which would be
 *  lost with it (Ray's workers refuse an idle exit for the same reason); either way it answers with exitReply. */
export interface ExitIfIdle {
  type: 'exitIfIdle';
}
export interface ExitReply {
  type: 'exitReply';
  exiting: boolean;
}
/** Head asks a worker to interrupt a task (cooperative: its AbortSignal fires). */
export interface Interrupt {
  type: 'interrupt';
  taskId: string;
}

// ---------- head <-> agent ----------
export interface StartWorker {
  type: 'startWorker';
  workerId: string;
  actorId?: string;
  /** The process's extra environment: the runtime env vars plus what the head sets (CUDA_VISIBLE_DEVICES). */
  env: Record<string, string>;
  /** The runtime env vars alone: the worker's own submissions inherit them, as in Ray. */
  runtimeEnvVars?: Record<string, string>;
}
export interface KillWorker {
  type: 'killWorker';
  workerId: string;
}
export interface WorkerExit {
  type: 'workerExit';
  workerId: string;
  pid: number;
  code: number | null;
  signal: string | null;
}
export interface WorkerLog {
  type: 'log';
  workerId: string;
  pid: number;
  nodeId: string;
  stream: 'stdout' | 'stderr';
  lines: string[];
}

export type Message =
  | Hello
  | Welcome
  | ErrorMessage
  | Heartbeat
  | Submit
  | CreateActor
  | CallActor
  | Cancel
  | KillActor
  | Request
  | Reply
  | Fetch
  | Fetched
  | Free
  | TaskBlocked
  | RunTask
  | StartActor
  | RunActorTask
  | TaskDone
  | ActorReady
  | ActorLocation
  | Interrupt
  | ExitIfIdle
  | Flow
  | ExitReply
  | StartWorker
  | KillWorker
  | WorkerExit
  | WorkerLog;

export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;
