/**
 * The head: owns cluster state (nodes, workers, tasks, actors, named actors, the key-value store) and routes
 * messages between drivers, workers and agents. Placement decisions come from the pure Scheduler; this module is the
 * I/O adapter around it. A task travels driver -> head -> worker -> head -> driver; the head never decodes user values.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { nanoid } from 'nanoid';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ActorAlreadyExistsError,
  ActorDiedError,
  ActorNotFoundError,
  ActorUnavailableError,
  AuthenticationError,
  CLOSE_AGENT_GONE,
  ConfigError,
  Connection,
  DEFAULT_MAX_FRAME_BYTES,
  NodeDiedError,
  PROTOCOL_VERSION,
  ProtocolError,
  TaskCancelledError,
  UnschedulableError,
  VersionMismatchError,
  WorkerCrashedError,
  InvalidArgumentError,
  type ActorInfo,
  type ActorOptions,
  type CallActor,
  type ClusterStatus,
  type CreateActor,
  type ExportRef,
  type Hello,
  type Labels,
  type Message,
  type NodeInfo,
  type RefArg,
  type Request,
  type Resources,
  type Role,
  type RuntimeError,
  type Submit,
  type TaskOptions,
  type TaskResult,
  type WireError,
  checkHello,
  type MessageOf,
} from '../../protocol/index.js';
import { Scheduler, SchedulingQueue, fmt, type Demand } from './scheduler.js';

export interface HeadConfig {
  token: string;
  port?: number;
  host?: string;
  heartbeatMs?: number;
  /** A node whose agent is silent or disconnected this long is declared dead. */
  nodeTimeoutMs?: number;
  /** A worker that does not connect within this time after its agent was asked to start it counts as failed. */
  workerStartTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Above this many queued tasks the head stops reading from submitters until the queue halves (backpressure). */
  maxPendingTasks?: number;
  /** Idle task workers are asked to exit after this long (0 = never; default DHTS_IDLE_WORKER_TIMEOUT_MS or 60 s),
   *  except a warm pool of plain (no runtime env) workers per node, as many as its CPUs. */
  idleWorkerTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Peer {
  id: string;
  role: Role;
  conn: Connection;
  socket: Socket;
  hostname: string;
  pid: number;
  nodeId?: string;
  paused: boolean;
  /** Submissions received since it was told to pause (in flight, or a client that ignores flow). */
  sincePause: number;
  /** Its socket is paused too: it went on submitting long after being told to stop. */
  socketPaused: boolean;
}

interface NodeState {
  nodeId: string;
  hostname: string;
  address: string;
  isHead: boolean;
  labels: Labels;
  total: Resources;
  agent?: Peer;
  alive: boolean;
  deathReason?: string;
  workers: Set<string>;
  /** Idle generic workers by runtime-env key: a worker started for one env never runs a task of another (Ray). */
  idle: Map<string, string[]>;
  /** Tasks placed here (resources held) that wait for a free worker; counted per env key in waitingByEnv. */
  waiting: TaskRecord[];
  waitingByEnv: Map<string, number>;
  /** Generic (task) workers asked for and not connected yet, in all and per env key. */
  starting: number;
  startingByEnv: Map<string, number>;
  startFailures: number;
  lastStartError?: string;
  deathTimer?: NodeJS.Timeout;
  /** A worker reported its agent gone: treat failures there as the node's. */
  agentLost?: boolean;
}

interface WorkerState {
  workerId: string;
  nodeId: string;
  peer?: Peer;
  pid?: number;
  actorId?: string;
  /** The runtime env it was started for ('' = none): it only ever serves tasks of that env. */
  envKey: string;
  state: 'starting' | 'idle' | 'busy' | 'exiting' | 'dead';
  idleSince?: number;
  taskId?: string;
  startTimer?: NodeJS.Timeout;
}

interface TaskRecord {
  kind: 'task';
  taskId: string;
  ownerId: string;
  fn: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  opts: TaskOptions;
  envKey: string;
  demand: Demand;
  attempt: number;
  retriesLeft: number;
  state: 'queued' | 'waiting' | 'running';
  nodeId?: string;
  workerId?: string;
  gpuIds: number[];
  held: Resources;
  blocked: boolean;
  cancelled: boolean;
}

interface CallRecord {
  kind: 'call';
  taskId: string;
  ownerId: string;
  actorId: string;
  method: string;
  args: Uint8Array;
  refArgs?: RefArg[];
  retriesLeft: number;
  cancelled: boolean;
}

interface ActorRecord {
  actorId: string;
  ownerId: string;
  cls: ExportRef;
  args: Uint8Array;
  refArgs?: RefArg[];
  opts: ActorOptions;
  demand: Demand;
  state: ActorInfo['state'];
  nodeId?: string;
  workerId?: string;
  gpuIds: number[];
  restarts: number;
  deathCause?: WireError;
  /** Calls waiting for the actor to be alive, in submission order. */
  queue: CallRecord[];
  inflight: Map<string, CallRecord>;
  /** Where the current incarnation takes direct calls, and the callers told so (peer id -> the actor id it uses). */
  directAddress?: string;
  locationTold: Map<string, string>;
}

type Queued = { demand: Demand; task?: TaskRecord; actor?: ActorRecord };

const ROLE_MESSAGES: Record<Role, ReadonlySet<Message['type']>> = {
  driver: new Set(['submit', 'createActor', 'callActor', 'cancel', 'killActor', 'request', 'fetch', 'fetched', 'free']),
  worker: new Set(['submit', 'createActor', 'callActor', 'cancel', 'killActor', 'request', 'fetch', 'fetched', 'free', 'taskDone', 'actorReady', 'taskBlocked', 'exitReply']),
  agent: new Set(['workerExit', 'log', 'request']),
};


/** At least this many submissions may arrive after a flow pause (in flight, or a held slice) before reading stops. */
const FLOW_GRACE_SUBMITS = 1000;

function idleTimeoutFromEnv(): number {
  const raw = process.env.DHTS_IDLE_WORKER_TIMEOUT_MS;
  const ms = raw === undefined || raw === '' ? 60_000 : Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError(`DHTS_IDLE_WORKER_TIMEOUT_MS must be a number of ms >= 0, got '${raw}'`);
  return ms;
}

/** Pool key of a runtime env: '' for none, else its variables in a canonical order. */
export function envKeyOf(env: Record<string, string> | undefined): string {
  if (!env) return '';
  const keys = Object.keys(env);
  if (keys.length === 0) return '';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, env[k]]));
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

export class Head {
  readonly config: Required<Omit<HeadConfig, 'port' | 'host' | 'log'>> & { port: number; host: string };
  private wss: WebSocketServer | undefined;
  private readonly peers = new Map<string, Peer>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly workers = new Map<string, WorkerState>();
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly calls = new Map<string, CallRecord>();
  private readonly actors = new Map<string, ActorRecord>();
  private readonly named = new Map<string, string>();
  /** getIfExists: the id the caller made up -> the existing actor it got. */
  private readonly aliases = new Map<string, string>();
  /** Creations refused (name taken): calls on those handles fail with this cause. */
  private readonly refused = new Map<string, WireError>();
  private readonly kv = new Map<string, Uint8Array | string>();
  private readonly scheduler = new Scheduler();
  private readonly queue = new SchedulingQueue<Queued>();
  private readonly recentFailures: { nodeId: string; hostname: string; reason: string }[] = [];
  private finished = 0;
  private pumpScheduled = false;
  private reapTimer: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;
  address = '';

  constructor(config: HeadConfig) {
    this.config = {
      token: config.token,
      port: config.port ?? 0,
      host: config.host ?? '127.0.0.1',
      heartbeatMs: config.heartbeatMs ?? 1000,
      nodeTimeoutMs: config.nodeTimeoutMs ?? 10_000,
      workerStartTimeoutMs: config.workerStartTimeoutMs ?? 30_000,
      maxFrameBytes: config.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxPendingTasks: config.maxPendingTasks ?? 200_000,
      idleWorkerTimeoutMs: config.idleWorkerTimeoutMs ?? idleTimeoutFromEnv(),
    };
    this.log = config.log ?? (() => {});
  }

  /** Listens; resolves with the bound port. */
  async start(): Promise<number> {
    const wss = new WebSocketServer({ host: this.config.host, port: this.config.port, maxPayload: this.config.maxFrameBytes, perMessageDeflate: false });
    this.wss = wss;
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('error', (e) => this.log(`server error: ${e.message}`));
    wss.on('connection', (ws, req) => this.onConnection(ws, req));
    const addr = wss.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
    this.address = `${this.config.host === '0.0.0.0' || this.config.host === '::' ? osHostname() : this.config.host}:${port}`;
    const idleMs = this.config.idleWorkerTimeoutMs;
    if (idleMs > 0) {
      this.reapTimer = setInterval(() => this.reapIdleWorkers(Date.now()), Math.max(50, Math.min(idleMs / 2, 5000)));
      this.reapTimer.unref();
    }
    return port;
  }

  /** Asks workers idle longer than idleWorkerTimeoutMs to exit, oldest first, keeping each node's warm pool. */
  private reapIdleWorkers(now: number): void {
    for (const node of this.nodes.values()) {
      if (!node.alive) continue;
      for (const [envKey, ids] of node.idle) {
        const keep = envKey === '' ? Math.floor(node.total.CPU ?? 0) : 0;
        // Pushed when they become idle and reused from the end: the front has idled longest.
        while (ids.length > keep) {
          const w = this.workers.get(ids[0]!);
          if (w && now - (w.idleSince ?? now) < this.config.idleWorkerTimeoutMs) break;
          ids.shift();
          if (!w?.peer) continue;
          w.state = 'exiting';
          w.peer.conn.send({ type: 'exitIfIdle' });
        }
        if (ids.length === 0) node.idle.delete(envKey);
      }
    }
  }

  private onExitReply(peer: Peer, exiting: boolean): void {
    const w = this.workers.get(peer.id);
    if (!w || w.state !== 'exiting') return;
    // Exiting: its connection closes and workerDied cleans up. Refused: back to the pool, idle anew.
    if (!exiting) this.workerIdle(w);
  }

  async stop(): Promise<void> {
    if (this.reapTimer) clearInterval(this.reapTimer);
    for (const n of this.nodes.values()) if (n.deathTimer) clearTimeout(n.deathTimer);
    for (const w of this.workers.values()) if (w.startTimer) clearTimeout(w.startTimer);
    for (const p of this.peers.values()) p.conn.close(1001, 'head stopping');
    const wss = this.wss;
    if (!wss) return;
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  // ------------------------------------------------------------------ connections

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn = new Connection(ws, {
      maxFrameBytes: this.config.maxFrameBytes,
      heartbeatMs: this.config.heartbeatMs,
      timeoutMs: this.config.nodeTimeoutMs,
    });
    let peer: Peer | undefined;
    conn.onMessage((m) => {
      if (!peer) {
        peer = this.handshake(m, conn, req.socket);
        return;
      }
      if (!ROLE_MESSAGES[peer.role].has(m.type)) throw new ProtocolError(`'${m.type}' is not allowed from a ${peer.role} connection`);
      this.onMessage(peer, m);
    });
    conn.onClose((reason) => {
      if (peer) this.onPeerClosed(peer, reason);
    });
  }

  private handshake(m: Message, conn: Connection, socket: Socket): Peer {
    checkHello(m, this.config.token, 'head');
    let id: string;
    let nodeId: string | undefined;
    if (m.role === 'driver') {
      id = `driver-${nanoid(10)}`;
    } else if (m.role === 'worker') {
      const w = m.workerId ? this.workers.get(m.workerId) : undefined;
      if (!w || w.state !== 'starting') throw new ProtocolError(`unknown or already connected worker ${m.workerId ?? '(none)'}`);
      id = w.workerId;
      nodeId = w.nodeId;
    } else {
      nodeId = this.registerNode(m);
      id = `agent-${nodeId}`;
    }
    const peer: Peer = { id, role: m.role, conn, socket, hostname: m.hostname, pid: m.pid, nodeId, paused: false, sincePause: 0, socketPaused: false };
    // Only agents are judged by silence (their loop never blocks); drivers and workers may run long synchronous
    // code, so they are judged by their socket, and a cut-off node by its agent.
    if (m.role !== 'agent') conn.setTiming(this.config.heartbeatMs, 0);
    this.peers.set(id, peer);
    conn.send({ type: 'welcome', version: PROTOCOL_VERSION, connId: id, nodeId, heartbeatMs: this.config.heartbeatMs });
    if (m.role === 'agent') {
      const node = this.nodes.get(nodeId!)!;
      node.agent = peer;
      this.log(`node ${nodeId} (${m.hostname}) registered: ${fmt(node.total)}`);
      // Workers that were running when the agent dropped are gone with it only if the agent says so.
      this.schedulePump();
    } else if (m.role === 'worker') {
      this.onWorkerConnected(this.workers.get(id)!, peer);
    }
    return peer;
  }

  private registerNode(m: Hello): string {
    const known = m.nodeId ? this.nodes.get(m.nodeId) : undefined;
    if (known && known.alive && !known.agent) {
      // The same agent is back within the grace period: keep its node, workers and running work.
      if (known.deathTimer) clearTimeout(known.deathTimer);
      known.deathTimer = undefined;
      known.agentLost = false;
      this.scheduler.setSchedulable(known.nodeId, true);
      return known.nodeId;
    }
    const nodeId = m.nodeId && !known ? m.nodeId : nanoid(12);
    const total: Resources = { ...(m.resources ?? {}) };
    this.nodes.set(nodeId, {
      nodeId,
      hostname: m.hostname,
      address: '',
      isHead: m.isHead ?? false,
      labels: m.labels ?? {},
      total,
      alive: true,
      workers: new Set(),
      idle: new Map(),
      waitingByEnv: new Map(),
      startingByEnv: new Map(),
      waiting: [],
      starting: 0,
      startFailures: 0,
    });
    this.scheduler.addNode(nodeId, total, m.labels ?? {}, m.gpuIds);
    return nodeId;
  }

  private onPeerClosed(peer: Peer, reason: string): void {
    if (this.peers.get(peer.id) !== peer) return;
    this.peers.delete(peer.id);
    if (peer.role === 'agent') {
      const node = this.nodes.get(peer.nodeId!);
      if (node && node.agent === peer) {
        node.agent = undefined;
        this.scheduler.setSchedulable(node.nodeId, false);
        if (peer.conn.timedOut) {
          // Silent for the whole timeout already: no second grace period.
          this.nodeDied(node, `agent silent: ${reason}`);
          return;
        }
        this.log(`node ${node.nodeId}: agent disconnected (${reason}); dead unless it is back within ${this.config.nodeTimeoutMs} ms`);
        node.deathTimer = setTimeout(() => this.nodeDied(node, `agent lost: ${reason}`), this.config.nodeTimeoutMs);
      }
      return;
    }
    if (peer.role === 'worker') {
      const w = this.workers.get(peer.id);
      if (w && peer.conn.closeCode === CLOSE_AGENT_GONE) {
        // Its agent died: nothing new goes to that node while we wait to hear from the agent.
        this.scheduler.setSchedulable(w.nodeId, false);
        const node = this.nodes.get(w.nodeId);
        if (node) node.agentLost = true;
      }
      if (w) this.workerDied(w, `worker connection closed (${reason})`);
    }
    this.ownerGone(peer.id);
  }

  // ------------------------------------------------------------------ messages

  private onMessage(peer: Peer, m: Message): void {
    switch (m.type) {
      case 'submit':
        return this.onSubmit(peer, m);
      case 'createActor':
        return this.onCreateActor(peer, m);
      case 'callActor':
        return this.onCallActor(peer, m);
      case 'taskDone':
        return this.onTaskDone(peer, m.taskId, m.result);
      case 'actorReady':
        return this.onActorReady(peer, m);
      case 'cancel':
        return this.onCancel(m.taskId, m.force);
      case 'killActor':
        return this.onKillActor(m.actorId, m.noRestart);
      case 'request':
        return this.onRequest(peer, m);
      case 'taskBlocked':
        return this.onTaskBlocked(m.taskId, m.blocked);
      case 'exitReply':
        return this.onExitReply(peer, m.exiting);
      case 'fetch': {
        const target = this.peers.get(m.peer);
        if (!target) {
          peer.conn.send({ type: 'fetched', reqId: m.reqId, peer: m.peer, ok: false, error: lost(`the process holding object ${m.objectId} is gone`) });
        } else {
          target.conn.send({ type: 'fetch', reqId: m.reqId, objectId: m.objectId, peer: peer.id });
        }
        return;
      }
      case 'fetched': {
        const target = this.peers.get(m.peer);
        if (target) target.conn.send({ ...m, peer: peer.id });
        return;
      }
      case 'free': {
        const target = this.peers.get(m.peer);
        if (target) target.conn.send({ type: 'free', peer: peer.id, ids: m.ids });
        return;
      }
      case 'workerExit': {
        const w = this.workers.get(m.workerId);
        if (w && w.nodeId === peer.nodeId) {
          this.workerDied(w, `worker process exited (${m.signal ? `signal ${m.signal}` : `code ${m.code}`})`, m);
        }
        return;
      }
      case 'log':
        return this.onLog(m.workerId, m);
      default:
        throw new ProtocolError(`'${m.type}' is not a message the head accepts`);
    }
  }

  private onSubmit(peer: Peer, m: Submit): void {
    if (this.tasks.has(m.taskId)) throw new ProtocolError(`task id ${m.taskId} submitted twice`);
    const task: TaskRecord = {
      kind: 'task',
      taskId: m.taskId,
      ownerId: peer.id,
      fn: m.fn,
      args: m.args,
      refArgs: m.refArgs,
      opts: m.opts,
      envKey: envKeyOf(m.opts.env),
      demand: { resources: m.opts.resources, strategy: m.opts.strategy, preferredNodeId: this.preferredNode(peer) },
      attempt: 0,
      retriesLeft: m.opts.maxRetries,
      state: 'queued',
      gpuIds: [],
      held: {},
      blocked: false,
      cancelled: false,
    };
    this.tasks.set(task.taskId, task);
    this.queue.push({ demand: task.demand, task });
    this.applyBackpressure(peer);
    this.schedulePump();
  }

  private preferredNode(peer: Peer): string | undefined {
    if (peer.nodeId) return peer.nodeId;
    for (const n of this.nodes.values()) if (n.isHead && n.alive) return n.nodeId;
    return undefined;
  }

  /** Asks the submitter to hold its submissions (its cancels and kills still reach us); stops reading from it only
   *  if it keeps submitting anyway. */
  private applyBackpressure(peer: Peer): void {
    if (peer.paused) {
      // Submissions in flight when it was told are fine; many more means it ignores flow.
      if (++peer.sincePause > Math.max(this.config.maxPendingTasks / 2, FLOW_GRACE_SUBMITS) && !peer.socketPaused) {
        peer.socketPaused = true;
        peer.socket.pause();
      }
      return;
    }
    if (this.queue.size > this.config.maxPendingTasks) {
      peer.paused = true;
      peer.sincePause = 0;
      peer.conn.send({ type: 'flow', paused: true });
    }
  }

  private releaseBackpressure(): void {
    if (this.queue.size > this.config.maxPendingTasks / 2) return;
    for (const p of this.peers.values()) {
      if (p.paused) {
        p.paused = false;
        p.conn.send({ type: 'flow', paused: false });
        if (p.socketPaused) {
          p.socketPaused = false;
          p.socket.resume();
        }
      }
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A microtask: after every message of the current frame, before this turn's frames are flushed.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    this.queue.pump(
      this.scheduler,
      (item, nodeId) => {
        if (item.task) this.placeTask(item.task, nodeId);
        else if (item.actor) this.placeActor(item.actor, nodeId);
      },
      (item, reason) => {
        const error = new UnschedulableError(reason).toWire();
        if (item.task) this.finishTask(item.task, { ok: false, error });
        else if (item.actor) this.actorDead(item.actor, error);
      },
    );
    this.releaseBackpressure();
  }

  private placeTask(task: TaskRecord, nodeId: string): void {
    const node = this.nodes.get(nodeId)!;
    task.gpuIds = this.scheduler.acquire(nodeId, task.opts.resources);
    task.held = task.opts.resources;
    task.nodeId = nodeId;
    task.state = 'waiting';
    const workerId = node.idle.get(task.envKey)?.pop();
    if (workerId) this.dispatch(task, this.workers.get(workerId)!);
    else {
      node.waiting.push(task);
      bump(node.waitingByEnv, task.envKey, 1);
      this.ensureWorkers(node);
    }
  }

  private dispatch(task: TaskRecord, w: WorkerState): void {
    task.state = 'running';
    task.workerId = w.workerId;
    w.state = 'busy';
    w.taskId = task.taskId;
    w.peer!.conn.send({
      type: 'runTask',
      taskId: task.taskId,
      fn: task.fn,
      args: task.args,
      refArgs: task.refArgs,
      gpuIds: task.gpuIds.length ? task.gpuIds : undefined,
      attempt: task.attempt,
    });
  }

  /** Starts generic workers until each runtime env has one on the way per task waiting for it. */
  private ensureWorkers(node: NodeState): void {
    if (!node.alive || !node.agent) return;
    for (const [envKey, waiting] of node.waitingByEnv) {
      let starting = node.startingByEnv.get(envKey) ?? 0;
      while (starting < waiting && node.starting < 32) {
        const task = node.waiting.find((t) => t.envKey === envKey)!;
        this.makeRoomForWorker(node, envKey);
        this.startWorker(node, undefined, task.opts.env);
        starting++;
      }
    }
  }

  /**
   * Ray's soft limit on a node's task workers, its CPU count: a worker about to start for one env first sends away
   * the longest-idle worker of another runtime env, so that work in many envs does not pile up idle processes.
   */
  private makeRoomForWorker(node: NodeState, envKey: string): void {
    const limit = Math.max(1, Math.floor(node.total.CPU ?? 1));
    let taskWorkers = 0;
    for (const id of node.workers) {
      const w = this.workers.get(id);
      if (w && !w.actorId && w.state !== 'exiting' && w.state !== 'dead') taskWorkers++;
    }
    if (taskWorkers < limit) return;
    let oldest: WorkerState | undefined;
    for (const [key, ids] of node.idle) {
      // The plain pool is the node's warm pool (kept by the idle reaper too): only env-scoped workers make room.
      const w = key === envKey || key === '' ? undefined : this.workers.get(ids[0]!);
      if (w && (!oldest || (w.idleSince ?? 0) < (oldest.idleSince ?? 0))) oldest = w;
    }
    if (!oldest?.peer) return;
    const ids = node.idle.get(oldest.envKey)!;
    ids.shift();
    if (ids.length === 0) node.idle.delete(oldest.envKey);
    oldest.state = 'exiting';
    oldest.peer.conn.send({ type: 'exitIfIdle' });
  }

  /** Replaces the node's waiting list (rare paths: cancel, owner gone, node death) and recounts it per env. */
  private setWaiting(node: NodeState, waiting: TaskRecord[]): void {
    node.waiting = waiting;
    node.waitingByEnv.clear();
    for (const t of waiting) bump(node.waitingByEnv, t.envKey, 1);
  }

  private startWorker(node: NodeState, actor?: ActorRecord, taskEnv?: Record<string, string>): WorkerState {
    const workerId = `w-${nanoid(10)}`;
    const runtimeEnvVars = actor ? actor.opts.env : taskEnv;
    const envKey = envKeyOf(runtimeEnvVars);
    const w: WorkerState = { workerId, nodeId: node.nodeId, actorId: actor?.actorId, envKey, state: 'starting' };
    this.workers.set(workerId, w);
    node.workers.add(workerId);
    // Only generic workers count: an actor's own worker never serves queued tasks.
    if (!actor) {
      node.starting++;
      bump(node.startingByEnv, envKey, 1);
    }
    const env: Record<string, string> = { ...(runtimeEnvVars ?? {}) };
    if (actor && actor.gpuIds.length) env.CUDA_VISIBLE_DEVICES = actor.gpuIds.join(',');
    w.startTimer = setTimeout(() => {
      if (w.state === 'starting') {
        this.sendKill(w);
        this.workerDied(w, `worker did not connect within ${this.config.workerStartTimeoutMs} ms`);
      }
    }, this.config.workerStartTimeoutMs);
    node.agent!.conn.send({ type: 'startWorker', workerId, actorId: actor?.actorId, env, runtimeEnvVars });
    return w;
  }

  private onWorkerConnected(w: WorkerState, peer: Peer): void {
    const node = this.nodes.get(w.nodeId)!;
    if (w.startTimer) clearTimeout(w.startTimer);
    if (!w.actorId) {
      node.starting--;
      bump(node.startingByEnv, w.envKey, -1);
    }
    node.startFailures = 0;
    w.peer = peer;
    w.pid = peer.pid;
    if (w.actorId) {
      const a = this.actors.get(w.actorId);
      if (!a || a.state === 'DEAD') {
        this.sendKill(w);
        return;
      }
      w.state = 'busy';
      peer.conn.send({
        type: 'startActor',
        actorId: a.actorId,
        cls: a.cls,
        args: a.args,
        refArgs: a.refArgs,
        maxConcurrency: a.opts.maxConcurrency,
        gpuIds: a.gpuIds.length ? a.gpuIds : undefined,
        restarts: a.restarts,
      });
      return;
    }
    this.workerIdle(w);
  }

  private workerIdle(w: WorkerState): void {
    const node = this.nodes.get(w.nodeId)!;
    w.state = 'idle';
    w.taskId = undefined;
    // Usually the head of the list: tasks of other envs are skipped, never given to this worker.
    const at = node.waitingByEnv.get(w.envKey) ? node.waiting.findIndex((t) => t.envKey === w.envKey) : -1;
    if (at >= 0) {
      const next = at === 0 ? node.waiting.shift()! : node.waiting.splice(at, 1)[0]!;
      bump(node.waitingByEnv, w.envKey, -1);
      this.dispatch(next, w);
    } else {
      let idle = node.idle.get(w.envKey);
      if (!idle) node.idle.set(w.envKey, (idle = []));
      idle.push(w.workerId);
      w.idleSince = Date.now();
    }
  }

  private onTaskDone(peer: Peer, taskId: string, result: TaskResult): void {
    const w = this.workers.get(peer.id);
    const call = this.calls.get(taskId);
    if (call) {
      this.calls.delete(taskId);
      const a = this.actors.get(call.actorId);
      a?.inflight.delete(taskId);
      this.finished++;
      if (!call.cancelled) this.deliver(call.ownerId, taskId, result);
      else if (result.holder) peer.conn.send({ type: 'free', peer: call.ownerId, ids: [taskId] });
      return;
    }
    const task = this.tasks.get(taskId);
    if (!task || !w || w.taskId !== taskId) return; // a late answer for work already failed over
    this.releaseTask(task);
    this.workerIdle(w);
    if (!result.ok && result.error?.code === 'TASK_ERROR' && task.opts.retryExceptions && task.retriesLeft !== 0 && !task.cancelled) {
      this.retry(task);
    } else {
      this.finishTask(task, result);
    }
    this.schedulePump();
  }

  private releaseTask(task: TaskRecord): void {
    if (task.nodeId) {
      const held = task.blocked ? withoutCpu(task.held) : task.held;
      this.scheduler.release(task.nodeId, held, task.gpuIds);
    }
    task.held = {};
    task.gpuIds = [];
    task.blocked = false;
  }

  private retry(task: TaskRecord): void {
    if (task.retriesLeft > 0) task.retriesLeft--;
    task.attempt++;
    task.state = 'queued';
    task.nodeId = undefined;
    task.workerId = undefined;
    this.queue.unshift({ demand: task.demand, task });
    this.schedulePump();
  }

  private finishTask(task: TaskRecord, result: TaskResult): void {
    this.tasks.delete(task.taskId);
    this.finished++;
    if (!task.cancelled) this.deliver(task.ownerId, task.taskId, result);
  }

  private deliver(ownerId: string, taskId: string, result: TaskResult): void {
    const owner = this.peers.get(ownerId);
    if (owner) owner.conn.send({ type: 'taskDone', taskId, result });
    else if (result.holder) this.peers.get(result.holder)?.conn.send({ type: 'free', peer: ownerId, ids: [taskId] });
  }

  private onTaskBlocked(taskId: string, blocked: boolean): void {
    const task = this.tasks.get(taskId);
    if (!task || task.state !== 'running' || task.blocked === blocked || !task.nodeId) return;
    const cpu = task.held.CPU ?? 0;
    if (cpu <= 0) return;
    task.blocked = blocked;
    if (blocked) {
      this.scheduler.release(task.nodeId, { CPU: cpu });
      this.schedulePump();
    } else {
      this.scheduler.acquire(task.nodeId, { CPU: cpu });
    }
  }

  private onCancel(taskId: string, force: boolean): void {
    const task = this.tasks.get(taskId);
    const cancelled = new TaskCancelledError(`task ${taskId} was cancelled`).toWire();
    if (task) {
      if (task.cancelled) return;
      if (task.state === 'queued') {
        this.queue.remove((q) => q.task === task);
        this.finishTask(task, { ok: false, error: cancelled });
        this.schedulePump();
        return;
      }
      if (task.state === 'waiting') {
        const node = this.nodes.get(task.nodeId!);
        if (node) this.setWaiting(node, node.waiting.filter((t) => t !== task));
        this.releaseTask(task);
        this.finishTask(task, { ok: false, error: cancelled });
        this.schedulePump();
        return;
      }
      // Running: the owner hears at once; the worker is interrupted (or killed with force) and its answer dropped.
      this.deliver(task.ownerId, taskId, { ok: false, error: cancelled });
      task.cancelled = true;
      const w = task.workerId ? this.workers.get(task.workerId) : undefined;
      if (w) {
        if (force) this.sendKill(w);
        else w.peer?.conn.send({ type: 'interrupt', taskId });
      }
      return;
    }
    const call = this.calls.get(taskId);
    if (!call || call.cancelled) return;
    const a = this.actors.get(call.actorId);
    if (a && a.queue.includes(call)) {
      a.queue = a.queue.filter((c) => c !== call);
      this.calls.delete(taskId);
      this.deliver(call.ownerId, taskId, { ok: false, error: cancelled });
      return;
    }
    call.cancelled = true;
    this.deliver(call.ownerId, taskId, { ok: false, error: cancelled });
    const w = a?.workerId ? this.workers.get(a.workerId) : undefined;
    w?.peer?.conn.send({ type: 'interrupt', taskId });
  }

  private sendKill(w: WorkerState): void {
    const node = this.nodes.get(w.nodeId);
    node?.agent?.conn.send({ type: 'killWorker', workerId: w.workerId });
  }

  // ------------------------------------------------------------------ failures

  private workerDied(w: WorkerState, reason: string, exit?: { code: number | null; signal: string | null }): void {
    if (w.state === 'dead') return;
    const wasStarting = w.state === 'starting';
    w.state = 'dead';
    if (w.startTimer) clearTimeout(w.startTimer);
    this.workers.delete(w.workerId);
    const node = this.nodes.get(w.nodeId);
    if (node) {
      node.workers.delete(w.workerId);
      const idle = node.idle.get(w.envKey);
      if (idle?.includes(w.workerId)) idle.splice(idle.indexOf(w.workerId), 1);
      if (wasStarting) {
        if (!w.actorId) {
          node.starting--;
          bump(node.startingByEnv, w.envKey, -1);
        }
        node.startFailures++;
        node.lastStartError = reason;
      }
    }
    // The connection may outlive the process for a moment (or the reverse): close it so routing stops.
    if (w.peer && this.peers.get(w.peer.id) === w.peer) {
      this.peers.delete(w.peer.id);
      w.peer.conn.terminate(reason);
      this.ownerGone(w.peer.id);
    }
    const nodeDead = !node || !node.alive || !node.agent || node.agentLost === true;
    if (w.actorId) {
      const a = this.actors.get(w.actorId);
      if (a && a.workerId === w.workerId) this.actorLost(a, reason, nodeDead);
    } else if (w.taskId) {
      const task = this.tasks.get(w.taskId);
      if (task && task.workerId === w.workerId) {
        this.releaseTask(task);
        if (task.cancelled) {
          this.tasks.delete(task.taskId);
        } else if (task.retriesLeft !== 0) {
          this.log(`task ${task.taskId} lost its worker (${reason}); retrying`);
          this.retry(task);
        } else {
          const error = nodeDead
            ? new NodeDiedError(`task ${task.fn.name} (${task.taskId}): node ${w.nodeId} died and retries ran out (${reason})`)
            : new WorkerCrashedError(`task ${task.fn.name} (${task.taskId}): the worker (pid ${w.pid ?? '?'}) died and retries ran out (${reason})`);
          this.finishTask(task, { ok: false, error: error.toWire() });
        }
      }
    }
    if (node && node.alive) {
      if (wasStarting && node.startFailures >= 3 && node.waiting.length) {
        // Workers cannot start on this node: fail what waits there rather than loop forever.
        const failed = node.waiting;
        this.setWaiting(node, []);
        for (const t of failed) {
          this.releaseTask(t);
          this.finishTask(t, { ok: false, error: new WorkerCrashedError(`no worker could start on node ${node.nodeId}: ${node.lastStartError}`).toWire() });
        }
      } else {
        this.ensureWorkers(node);
      }
    }
    void exit;
    this.schedulePump();
  }

  private nodeDied(node: NodeState, reason: string): void {
    if (!node.alive) return;
    node.alive = false;
    node.deathReason = reason;
    node.deathTimer = undefined;
    this.log(`node ${node.nodeId} died: ${reason}`);
    this.recentFailures.push({ nodeId: node.nodeId, hostname: node.hostname, reason });
    if (this.recentFailures.length > 20) this.recentFailures.shift();
    this.scheduler.setSchedulable(node.nodeId, false);
    // Work placed there but not started goes back to the queue; it never ran, so it keeps its retries.
    const requeued = node.waiting;
    this.setWaiting(node, []);
    for (const t of requeued) {
      this.releaseTask(t);
      t.state = 'queued';
      t.nodeId = undefined;
      this.queue.unshift({ demand: t.demand, task: t });
    }
    for (const id of [...node.workers]) {
      const w = this.workers.get(id);
      if (w) this.workerDied(w, `node ${node.nodeId} died (${reason})`);
    }
    node.agent?.conn.terminate('node declared dead');
    this.schedulePump();
  }

  /** Everything the closed connection owned: non-detached actors die, queued work is dropped. */
  private ownerGone(ownerId: string): void {
    for (const a of this.actors.values()) {
      a.locationTold.delete(ownerId);
      if (a.ownerId === ownerId && !a.opts.detached && a.state !== 'DEAD') {
        this.killActor(a, new ActorDiedError(`actor ${a.cls.name} (${a.actorId}) died because its owner ${ownerId} exited`).toWire());
      }
    }
    const dropped = this.queue.remove((q) => q.task?.ownerId === ownerId);
    for (const q of dropped) this.tasks.delete(q.task!.taskId);
    for (const node of this.nodes.values()) {
      const keep: TaskRecord[] = [];
      for (const t of node.waiting) {
        if (t.ownerId === ownerId) {
          this.releaseTask(t);
          this.tasks.delete(t.taskId);
        } else keep.push(t);
      }
      if (keep.length !== node.waiting.length) this.setWaiting(node, keep);
    }
    for (const t of this.tasks.values()) {
      if (t.ownerId === ownerId && t.state === 'running' && !t.cancelled) {
        t.cancelled = true;
        const w = t.workerId ? this.workers.get(t.workerId) : undefined;
        w?.peer?.conn.send({ type: 'interrupt', taskId: t.taskId });
      }
    }
    for (const c of this.calls.values()) if (c.ownerId === ownerId) c.cancelled = true;
    if (dropped.length) this.schedulePump();
  }

  // ------------------------------------------------------------------ actors

  private onCreateActor(peer: Peer, m: CreateActor): void {
    const opts = m.opts;
    const reply = (ok: boolean, value?: unknown, error?: RuntimeError) =>
      peer.conn.send({ type: 'reply', reqId: m.reqId, ok, value, error: error?.toWire() });
    if (opts.name !== undefined) {
      const key = `${opts.namespace}\u0000${opts.name}`;
      const existing = this.named.get(key);
      if (existing && this.actors.get(existing)?.state !== 'DEAD') {
        if (m.getIfExists) {
          this.aliases.set(m.actorId, existing);
          return reply(true, { actorId: existing, existing: true });
        }
        const error = new ActorAlreadyExistsError(`an actor named '${opts.name}' already exists in namespace '${opts.namespace}'`);
        if (this.refused.size > 10_000) this.refused.clear();
        this.refused.set(m.actorId, error.toWire());
        return reply(false, undefined, error);
      }
      this.named.set(key, m.actorId);
    }
    if (this.actors.has(m.actorId)) return reply(false, undefined, new InvalidArgumentError(`actor id ${m.actorId} already used`));
    const actor: ActorRecord = {
      actorId: m.actorId,
      ownerId: peer.id,
      cls: m.cls,
      args: m.args,
      refArgs: m.refArgs,
      opts,
      demand: { resources: maxResources(opts.placement, opts.resources), strategy: opts.strategy, preferredNodeId: this.preferredNode(peer) },
      state: 'PENDING',
      gpuIds: [],
      restarts: 0,
      queue: [],
      inflight: new Map(),
      locationTold: new Map(),
    };
    this.actors.set(actor.actorId, actor);
    this.queue.push({ demand: actor.demand, actor });
    reply(true, { actorId: actor.actorId, existing: false });
    this.schedulePump();
  }

  private placeActor(a: ActorRecord, nodeId: string): void {
    if (a.state === 'DEAD') return;
    const node = this.nodes.get(nodeId)!;
    a.nodeId = nodeId;
    a.gpuIds = this.scheduler.acquire(nodeId, a.opts.resources);
    const w = this.startWorker(node, a);
    a.workerId = w.workerId;
  }

  private onActorReady(peer: Peer, m: MessageOf<'actorReady'>): void {
    const { actorId, error } = m;
    const a = this.actors.get(actorId);
    if (!a || a.workerId !== peer.id) return;
    if (!m.ok) {
      // The constructor threw: Ray does not restart an actor whose creation task failed.
      this.actorDead(a, new ActorDiedError(`actor ${a.cls.name} (${actorId}) failed in its constructor: ${error?.message ?? 'unknown error'}`).toWire());
      const w = this.workers.get(peer.id);
      if (w) this.sendKill(w);
      return;
    }
    a.state = 'ALIVE';
    a.directAddress = m.directAddress;
    a.locationTold.clear();
    for (const c of a.queue.splice(0)) this.sendCall(a, c);
  }

  private actor(id: string): ActorRecord | undefined {
    return this.actors.get(this.aliases.get(id) ?? id);
  }

  private onCallActor(peer: Peer, m: CallActor): void {
    const a = this.actor(m.actorId);
    const call: CallRecord = {
      kind: 'call',
      taskId: m.taskId,
      ownerId: peer.id,
      actorId: a?.actorId ?? m.actorId,
      method: m.method,
      args: m.args,
      refArgs: m.refArgs,
      retriesLeft: a?.opts.maxTaskRetries ?? 0,
      cancelled: false,
    };
    if (!a) {
      const error = this.refused.get(m.actorId) ?? new ActorDiedError(`actor ${m.actorId} does not exist`).toWire();
      peer.conn.send({ type: 'taskDone', taskId: m.taskId, result: { ok: false, error } });
      return;
    }
    if (a.state === 'DEAD') {
      peer.conn.send({ type: 'taskDone', taskId: m.taskId, result: { ok: false, error: a.deathCause ?? new ActorDiedError(`actor ${a.actorId} is dead`).toWire() } });
      return;
    }
    if (m.lostFrom !== undefined && !this.admitLostCall(a, call, m.lostFrom)) return;
    this.calls.set(call.taskId, call);
    if (a.state === 'ALIVE') {
      this.sendCall(a, call);
      if (a.directAddress && !a.locationTold.has(peer.id)) {
        a.locationTold.set(peer.id, m.actorId);
        // Under the id this caller uses (a getIfExists alias, maybe): later calls can go straight to the process.
        peer.conn.send({ type: 'actorLocation', actorId: m.actorId, address: a.directAddress, incarnation: a.restarts });
      }
    } else a.queue.push(call);
  }

  /**
   * A call sent straight to the actor's process `lostFrom` whose connection closed before the answer: it may or may
   * not have run. If that process is known gone, the attempt counts against maxTaskRetries as an in-flight call's does;
   * if the head still thinks it alive, the call joins its in-flight set and shares the fate the process's end decides.
   * Returns whether to go on and send it now.
   */
  private admitLostCall(a: ActorRecord, call: CallRecord, lostFrom: number): boolean {
    if (a.restarts === lostFrom && a.state === 'ALIVE') {
      this.calls.set(call.taskId, call);
      a.inflight.set(call.taskId, call);
      // Only the connection broke and the process lives on: retry there if allowed, else the call is unavailable.
      setTimeout(() => {
        if (a.inflight.get(call.taskId) !== call || a.restarts !== lostFrom || a.state !== 'ALIVE') return;
        a.inflight.delete(call.taskId);
        if (this.retryOrFail(call, `actor ${a.cls.name} (${a.actorId}): the connection carrying call ${call.method} broke; it may or may not have run`)) {
          this.sendCall(a, call);
        }
      }, this.config.nodeTimeoutMs).unref();
      return false;
    }
    return this.retryOrFail(call, `actor ${a.cls.name} (${a.actorId}) restarted: call ${call.method} was lost with its process`);
  }

  /** A call whose attempt was lost: true when maxTaskRetries allows another (one is used), else it fails as unavailable. */
  private retryOrFail(call: CallRecord, lost: string): boolean {
    if (call.retriesLeft !== 0) {
      if (call.retriesLeft > 0) call.retriesLeft--;
      return true;
    }
    this.calls.delete(call.taskId);
    this.deliver(call.ownerId, call.taskId, { ok: false, error: new ActorUnavailableError(`${lost} and maxTaskRetries allows no retry`).toWire() });
    return false;
  }

  private sendCall(a: ActorRecord, c: CallRecord): void {
    const w = this.workers.get(a.workerId!);
    a.inflight.set(c.taskId, c);
    w!.peer!.conn.send({ type: 'runActorTask', taskId: c.taskId, method: c.method, args: c.args, refArgs: c.refArgs });
  }

  /** The actor's process is gone: restart it if allowed, else it is dead. */
  private actorLost(a: ActorRecord, reason: string, nodeDead: boolean): void {
    if (a.state === 'DEAD') return;
    if (a.nodeId) this.scheduler.release(a.nodeId, a.opts.resources, a.gpuIds);
    a.gpuIds = [];
    a.workerId = undefined;
    this.directGone(a);
    const canRestart = a.opts.maxRestarts === -1 || a.restarts < a.opts.maxRestarts;
    const inflight = [...a.inflight.values()];
    a.inflight.clear();
    if (!canRestart) {
      const error = new ActorDiedError(
        `actor ${a.cls.name} (${a.actorId}) died: ${nodeDead ? `its node ${a.nodeId} died` : 'its worker process died'} (${reason}); restarts used ${a.restarts} of ${a.opts.maxRestarts}`,
      ).toWire();
      a.queue.unshift(...inflight.filter((c) => !c.cancelled));
      this.actorDead(a, error);
      return;
    }
    a.restarts++;
    a.state = 'RESTARTING';
    this.log(`actor ${a.actorId} restarting (${a.restarts}/${a.opts.maxRestarts}): ${reason}`);
    const retried: CallRecord[] = [];
    for (const c of inflight) {
      if (c.cancelled) {
        this.calls.delete(c.taskId);
      } else if (this.retryOrFail(c, `actor ${a.cls.name} (${a.actorId}) is restarting: call ${c.method} was lost with its process (${reason})`)) {
        retried.push(c);
      }
    }
    a.queue.unshift(...retried);
    a.nodeId = undefined;
    this.queue.push({ demand: a.demand, actor: a });
    this.schedulePump();
  }

  /**
   * The incarnation's process is gone (or cut off with its node): callers connected to it straight are told, so that
   * calls in flight there come back to the head even when no socket error will ever tell them (a partition).
   */
  private directGone(a: ActorRecord): void {
    if (!a.directAddress) return;
    a.directAddress = undefined;
    for (const [peerId, actorId] of a.locationTold) {
      this.peers.get(peerId)?.conn.send({ type: 'actorLocation', actorId, incarnation: a.restarts });
    }
    a.locationTold.clear();
  }

  private actorDead(a: ActorRecord, cause: WireError): void {
    if (a.state === 'DEAD') return;
    const wasPlaced = a.workerId !== undefined;
    if (wasPlaced && a.nodeId) this.scheduler.release(a.nodeId, a.opts.resources, a.gpuIds);
    a.state = 'DEAD';
    a.deathCause = cause;
    a.gpuIds = [];
    this.directGone(a);
    this.queue.remove((q) => q.actor === a);
    for (const c of [...a.queue, ...a.inflight.values()]) {
      this.calls.delete(c.taskId);
      if (!c.cancelled) this.deliver(c.ownerId, c.taskId, { ok: false, error: cause });
    }
    a.queue = [];
    a.inflight.clear();
    if (a.opts.name !== undefined) {
      const key = `${a.opts.namespace}\u0000${a.opts.name}`;
      if (this.named.get(key) === a.actorId) this.named.delete(key);
    }
    this.schedulePump();
  }

  private killActor(a: ActorRecord, cause: WireError): void {
    const w = a.workerId ? this.workers.get(a.workerId) : undefined;
    this.actorDead(a, cause);
    a.workerId = undefined;
    if (w) this.sendKill(w);
  }

  private onKillActor(actorId: string, noRestart: boolean): void {
    const a = this.actor(actorId);
    if (!a || a.state === 'DEAD') return;
    if (noRestart) {
      this.killActor(a, new ActorDiedError(`actor ${a.cls.name} (${actorId}) was killed with kill()`).toWire());
      return;
    }
    const w = a.workerId ? this.workers.get(a.workerId) : undefined;
    if (w) this.sendKill(w); // its death restarts the actor if maxRestarts allows
  }

  // ------------------------------------------------------------------ requests, logs, status

  private onRequest(peer: Peer, m: Request): void {
    const reply = (value: unknown) => peer.conn.send({ type: 'reply', reqId: m.reqId, ok: true, value });
    const fail = (e: RuntimeError) => peer.conn.send({ type: 'reply', reqId: m.reqId, ok: false, error: e.toWire() });
    switch (m.op) {
      case 'getActor': {
        const ns = m.namespace ?? 'default';
        const id = this.named.get(`${ns}\u0000${m.name}`);
        const a = id ? this.actors.get(id) : undefined;
        if (!a || a.state === 'DEAD') return fail(new ActorNotFoundError(`no actor named '${m.name}' in namespace '${ns}'`));
        return reply({ actorId: a.actorId, className: a.cls.name });
      }
      case 'nodes':
        return reply(this.nodeInfos());
      case 'status':
        return reply(this.status());
      case 'kvPut': {
        const exists = this.kv.has(m.key!);
        if (exists && m.overwrite === false) return reply(false);
        this.kv.set(m.key!, m.value!);
        return reply(true);
      }
      case 'kvGet':
        return reply(this.kv.get(m.key!) ?? null);
      case 'kvDelete':
        return reply(this.kv.delete(m.key!));
      case 'kvList':
        return reply(this.kvList(m.prefix ?? ''));
    }
  }

  kvList(prefix: string): string[] {
    return [...this.kv.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  kvGet(key: string): Uint8Array | string | undefined {
    return this.kv.get(key);
  }
  kvPut(key: string, value: Uint8Array | string): void {
    this.kv.set(key, value);
  }
  kvDelete(key: string): boolean {
    return this.kv.delete(key);
  }

  private onLog(workerId: string, m: Extract<Message, { type: 'log' }>): void {
    const w = this.workers.get(workerId);
    let ownerId: string | undefined;
    if (w?.taskId) ownerId = this.tasks.get(w.taskId)?.ownerId;
    else if (w?.actorId) ownerId = this.actors.get(w.actorId)?.ownerId;
    const owner = ownerId ? this.peers.get(ownerId) : undefined;
    if (owner && owner.role === 'driver') owner.conn.send(m);
    else for (const p of this.peers.values()) if (p.role === 'driver') p.conn.send(m);
  }

  nodeInfos(): NodeInfo[] {
    return [...this.nodes.values()].map((n) => {
      const s = this.scheduler.getNode(n.nodeId);
      return {
        nodeId: n.nodeId,
        alive: n.alive,
        hostname: n.hostname,
        address: n.agent ? `${n.agent.socket.remoteAddress ?? ''}` : '',
        isHead: n.isHead,
        total: { ...n.total },
        available: n.alive && s ? roundAll(s.available) : {},
        labels: n.labels,
        deathReason: n.deathReason,
        workers: n.workers.size,
      };
    });
  }

  status(): ClusterStatus {
    let running = 0;
    let pending = 0;
    for (const t of this.tasks.values()) {
      if (t.state === 'running') running++;
      else pending++;
    }
    return {
      headAddress: this.address,
      nodes: this.nodeInfos(),
      actors: [...this.actors.values()].map((a) => ({
        actorId: a.actorId,
        className: a.cls.name,
        name: a.opts.name,
        namespace: a.opts.namespace,
        state: a.state,
        nodeId: a.nodeId,
        pid: a.workerId ? this.workers.get(a.workerId)?.pid : undefined,
        restarts: a.restarts,
        deathCause: a.deathCause?.message,
        detached: a.opts.detached,
        address: a.directAddress,
      })),
      pendingDemands: this.queue.demands(this.scheduler),
      tasks: { pending, running: running + this.calls.size, finished: this.finished },
      recentFailures: [...this.recentFailures],
    };
  }
}

function lost(message: string): WireError {
  return { code: 'OBJECT_LOST', name: 'ObjectLostError', message };
}

function withoutCpu(r: Resources): Resources {
  const { CPU: _cpu, ...rest } = r;
  return rest;
}

function maxResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const k in b) out[k] = Math.max(out[k] ?? 0, b[k]!);
  return out;
}

function roundAll(r: Resources): Resources {
  const out: Resources = {};
  for (const k in r) out[k] = Math.round(r[k]! * 1e6) / 1e6;
  return out;
}
