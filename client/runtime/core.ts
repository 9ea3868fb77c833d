/**
 * The core of the SDK, the same in a driver and inside a worker: one connection to the head, the table of objects
 * this process owns (task results and puts), the values it holds for others, and request/reply plumbing.
 *
 * Ownership as in Ray: the submitter owns a task's result. Small values come back inline in `taskDone`; large ones
 * stay in the worker that produced them and are fetched on demand (through the head, which routes `fetch`). A value
 * lost with its holder is rebuilt by re-submitting the task while retries allow. Refs dropped by user code are freed
 * through a FinalizationRegistry; a ref that was serialized into another value "escapes" and stays pinned.
 */
import { hostname } from 'node:os';
import {
  ConnectionClosedError,
  GetTimeoutError,
  InvalidArgumentError,
  ObjectLostError,
  TaskCancelledError,
  dial,
  fromWireError,
  type ActorOptions,
  type Connection,
  type ExportRef,
  type Message,
  type MessageOf,
  type RefArg,
  type RequestOp,
  type Role,
  type TaskOptions,
  type TaskResult,
  type Welcome,
  type WireError,
} from '../../protocol/index.js';
import { ObjectRef } from './object-ref.js';
import { ActorHandleTarget, decodeValue, encodeValue, forgetLastEncoded, isPoolable, poolLow, releaseEncoded, setSerializationHooks } from './serialize.js';
import { requestCollection } from './collector.js';

/** Values up to this size travel inside messages; larger ones stay with their producer. */
export const INLINE_THRESHOLD_BYTES = 100 * 1024;

interface OwnedEntry {
  state: 'pending' | 'ready' | 'failed';
  data?: Uint8Array;
  /** Connection id of the process holding the value when it is not inline. */
  holder?: string;
  error?: WireError;
  waiters?: (() => void)[];
  /** How to rebuild it (task results only). */
  spec?: { fn: ExportRef; args: Uint8Array; refArgs?: RefArg[]; opts: TaskOptions };
  lineageRetries: number;
  /** Serialized where we cannot follow it (inside a put value, a result, a fetched value): kept until shutdown. */
  escaped: boolean;
  liveRefs: number;
  /** Calls in flight (or kept for lineage) whose arguments hold this ref nested in a value. */
  pins?: number;
  /** Processes that reported, with a call's result, that they still hold this ref (Ray's borrowers). */
  borrowers?: Set<string>;
  /** For a call: the refs we own nested in its arguments, pinned until it settles for good; for a put: in its value. */
  nested?: string[];
}

/** A ref another process owns, as this process holds it (we are a borrower). */
interface ForeignRef {
  ownerId: string;
  liveRefs: number;
  /** A call's result told the owner we hold it: it must hear when we no longer do. */
  reported: boolean;
  /** We serialized it on: someone else may hold it through us, so we never tell the owner we let go. */
  forwarded: boolean;
}

export interface CoreOptions {
  address: string;
  token: string;
  role: Role;
  namespace: string;
  workerId?: string;
  nodeId?: string;
  connectTimeoutMs?: number;
  /** Print workers' stdout/stderr lines forwarded by the head (drivers). */
  logToDriver?: boolean;
}

/** What a worker runtime plugs into the core to receive work. */
export type WorkHandler = (message: Message) => void;

/**
 * A connection straight to an actor's process (Ray's direct actor calls), for one incarnation of the actor. Calls go
 * this way only while none sent through the head is still unanswered, so one caller's calls keep their order.
 */
interface DirectRoute {
  incarnation: number;
  conn?: Connection;
  /** Calls sent on `conn` and not answered yet, in the order they were sent. */
  inflight: Map<string, MessageOf<'callActor'>>;
}

type PreparedArgs = { args: Uint8Array; refArgs?: RefArg[] };

/** Held submissions sent per event-loop turn once the head lets go (well under its flow grace of 1000). */
const HELD_SLICE = 256;

export class CoreClient {
  readonly namespace: string;
  connId = '';
  nodeId: string | undefined;
  private conn!: Connection;
  private readonly owned = new Map<string, OwnedEntry>();
  private readonly foreign = new Map<string, ForeignRef>();
  /** While encoding a call's arguments: the owned refs found nested in them (pinned, not escaped). */
  private nestedCapture: string[] | undefined;
  /** While decoding a call's arguments (workers): the foreign refs found in them. */
  private foreignCapture: string[] | undefined;
  /** Large values this process produced for others (task results in a worker). */
  private readonly held = new Map<string, Uint8Array>();
  /** Bytes of large put values still owned here (what a collection may give back to the put pool). */
  private largePutBytes = 0;
  private seq = 0;
  private reqSeq = 0;
  private readonly pendingRequests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly pendingFetches = new Map<number, { resolve: (m: Extract<Message, { type: 'fetched' }>) => void }>();
  private readonly finalizer: FinalizationRegistry<string>;
  private readonly foreignFinalizer: FinalizationRegistry<string>;
  private freeBatch: Map<string, string[]> | undefined;
  private closedError: Error | undefined;
  private work: WorkHandler | undefined;
  /** Work that arrived before a handler was installed (it can share the welcome's frame). */
  private workBacklog: Message[] = [];
  /** Called when a get/wait starts or stops blocking (workers lend their CPU back while blocked). */
  blockingHook: ((blocked: boolean) => void) | undefined;
  /** Runtime env vars this process's tasks and actors inherit: the driver's init()/job env, or a worker's own. */
  runtimeEnvVars: Record<string, string> | undefined;
  private closeListeners: ((reason: string) => void)[] = [];
  private welcomeHeartbeatMs = 1000;
  private readonly directRoutes = new Map<string, DirectRoute>();
  /** Actor calls sent through the head and not answered yet: their actor id, and how many per actor. */
  private readonly headCalls = new Map<string, string>();
  private readonly headCallsPerActor = new Map<string, number>();
  /** Operations a driver awaits: while there are some, the connection keeps the process alive; otherwise a
   *  script whose work is done exits, as a Ray driver does (its non-detached actors then die with it). */
  private waiting = 0;

  private constructor(readonly options: CoreOptions) {
    this.namespace = options.namespace;
    this.finalizer = new FinalizationRegistry((id) => this.onRefCollected(id));
    this.foreignFinalizer = new FinalizationRegistry((id) => this.onForeignCollected(id));
  }

  static async connect(options: CoreOptions): Promise<CoreClient> {
    const core = new CoreClient(options);
    const { conn, welcome, early } = await dial(
      options.address,
      {
        role: options.role,
        token: options.token,
        pid: process.pid,
        hostname: hostname(),
        workerId: options.workerId,
        nodeId: options.nodeId,
        namespace: options.namespace,
      },
      { connectTimeoutMs: options.connectTimeoutMs ?? 10_000 },
    );
    core.attach(conn, welcome);
    for (const m of early) core.onMessage(m);
    return core;
  }

  private attach(conn: Connection, welcome: Welcome): void {
    this.conn = conn;
    this.connId = welcome.connId;
    this.nodeId = welcome.nodeId ?? this.options.nodeId;
    this.welcomeHeartbeatMs = welcome.heartbeatMs;
    // No silence timeout here: a driver or worker busy in synchronous code must not lose its connection; a dead
    // head shows up as a closed socket, and a cut-off node is handled through its agent.
    conn.setTiming(welcome.heartbeatMs, 0);
    if (this.options.role === 'driver') conn.setKeepsProcessAlive(false);
    conn.onMessage((m) => this.onMessage(m));
    conn.onClose((reason) => this.onClosed(reason));
    setSerializationHooks({
      makeRef: (id, ownerId) => this.makeRef(id, ownerId),
      makeActorHandle: (actorId, className) => this.actorHandleFactory(actorId, className),
      isActorHandle: (v): v is ActorHandleTarget => v instanceof ActorHandleTarget,
      onRefSerialized: (ref) => {
        const e = this.owned.get(ref.id);
        if (e) {
          if (this.nestedCapture) this.nestedCapture.push(ref.id);
          else e.escaped = true;
          return;
        }
        const f = this.foreign.get(ref.id);
        if (f) f.forwarded = true;
      },
    });
  }

  set workHandler(handler: WorkHandler) {
    this.work = handler;
    const backlog = this.workBacklog;
    this.workBacklog = [];
    for (const m of backlog) handler(m);
  }

  /** Set by the actor module: builds a handle proxy for a decoded actor handle. */
  actorHandleFactory: (actorId: string, className: string) => object = (actorId, className) => new ActorHandleTarget(actorId, className);

  /** Heartbeat interval the head asked for. */
  get heartbeatMs(): number {
    return this.welcomeHeartbeatMs;
  }

  /** Our IP address on the connection to the head: where other nodes can reach this process. */
  get localAddress(): string | undefined {
    return this.conn.localAddress;
  }

  get isConnected(): boolean {
    return !this.closedError;
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  close(code = 1000, reason = 'shutdown'): void {
    this.conn.close(code, reason);
  }

  send(message: Message): void {
    if (this.closedError) throw this.closedError;
    this.conn.send(message);
  }

  /** Keeps the process alive until `p` settles (drivers only). */
  keepAlive<T>(p: Promise<T>): Promise<T> {
    if (this.options.role !== 'driver') return p;
    if (this.waiting++ === 0) this.conn.setKeepsProcessAlive(true);
    const done = () => {
      if (--this.waiting === 0) this.conn.setKeepsProcessAlive(false);
    };
    p.then(done, done);
    return p;
  }

  nextId(): string {
    return `${this.connId}.${(++this.seq).toString(36)}`;
  }

  // ------------------------------------------------------------------ refs and ownership

  makeRef<T>(id: string, ownerId: string): ObjectRef<T> {
    const ref = new ObjectRef<T>(id, ownerId);
    if (ownerId === this.connId) {
      const e = this.owned.get(id);
      if (e) {
        e.liveRefs++;
        this.finalizer.register(ref, id);
      }
    } else {
      let f = this.foreign.get(id);
      if (!f) {
        f = { ownerId, liveRefs: 0, reported: false, forwarded: false };
        this.foreign.set(id, f);
      }
      f.liveRefs++;
      this.foreignFinalizer.register(ref, id);
      this.foreignCapture?.push(id);
    }
    return ref;
  }

  private onRefCollected(id: string): void {
    const e = this.owned.get(id);
    if (!e) return;
    e.liveRefs--;
    this.maybeFree(id, e);
  }

  /** Frees an owned value once nothing can read it: no live ref here, no call holding it, no borrower. */
  private maybeFree(id: string, e: OwnedEntry): void {
    if (e.liveRefs > 0 || e.escaped || e.state === 'pending' || (e.pins ?? 0) > 0 || (e.borrowers?.size ?? 0) > 0) return;
    this.owned.delete(id);
    this.releaseNested(e);
    // A put value that never left this process: its buffer can serve the next large put.
    if (e.data && e.holder === this.connId && !e.spec && isPoolable(e.data)) {
      this.largePutBytes -= e.data.byteLength;
      releaseEncoded(e.data);
    }
    if (e.holder && e.holder !== this.connId) this.queueFree(e.holder, id);
    this.held.delete(id);
  }

  /** A call settled for good (or its lineage is gone): the refs nested in its arguments are no longer pinned by it. */
  private releaseNested(e: OwnedEntry): void {
    const nested = e.nested;
    if (!nested) return;
    e.nested = undefined;
    for (const id of nested) {
      const inner = this.owned.get(id);
      if (!inner) continue;
      inner.pins = (inner.pins ?? 1) - 1;
      this.maybeFree(id, inner);
    }
  }

  private onForeignCollected(id: string): void {
    const f = this.foreign.get(id);
    if (!f || --f.liveRefs > 0) return;
    this.foreign.delete(id);
    if (f.reported && !f.forwarded && !this.closedError) this.queueFree(f.ownerId, id);
  }

  /** Workers: the foreign refs made while `decode` runs (a call's arguments), to report them as borrowed. */
  captureForeign<T>(decode: () => T): { value: T; refs: string[] } {
    const outer = this.foreignCapture;
    const refs: string[] = [];
    this.foreignCapture = refs;
    try {
      return { value: decode(), refs };
    } finally {
      this.foreignCapture = outer;
    }
  }

  /** Whether some owner waits to hear that we let go of refs it lent us. */
  get holdsReportedBorrows(): boolean {
    for (const f of this.foreign.values()) if (f.reported && !f.forwarded) return true;
    return false;
  }

  /** Workers: which of these foreign refs we still hold at the end of a call; the owner will hear when we let go. */
  stillBorrowed(ids: readonly string[]): string[] | undefined {
    const out: string[] = [];
    for (const id of new Set(ids)) {
      const f = this.foreign.get(id);
      if (!f) continue;
      f.reported = true;
      out.push(id);
    }
    return out.length ? out : undefined;
  }

  private queueFree(holder: string, id: string): void {
    if (!this.freeBatch) {
      this.freeBatch = new Map();
      setImmediate(() => {
        const batch = this.freeBatch!;
        this.freeBatch = undefined;
        if (this.closedError) return;
        for (const [peer, ids] of batch) this.conn.send({ type: 'free', peer, ids });
      });
    }
    const list = this.freeBatch.get(holder);
    if (list) list.push(id);
    else this.freeBatch.set(holder, [id]);
  }

  /** Number of objects this process owns (for tests of reference counting). */
  ownedCount(): number {
    return this.owned.size;
  }

  put<T>(value: T): ObjectRef<T> {
    const id = this.nextId();
    // Refs we own inside the value are pinned by it (Ray's contained refs) until it is freed or its bytes leave us.
    const nested: string[] = [];
    const data = this.encodeCapturing(value, nested);
    const entry: OwnedEntry = { state: 'ready', data, holder: this.connId, lineageRetries: 0, escaped: false, liveRefs: 0 };
    this.owned.set(id, entry);
    this.pinNested(entry, nested);
    if (isPoolable(data)) {
      // Earlier large puts whose refs were dropped come back to the pool only after a full GC: ask for one early.
      if (poolLow(data.byteLength)) requestCollection(this.largePutBytes);
      this.largePutBytes += data.byteLength;
    }
    return this.makeRef<T>(id, this.connId);
  }

  // ------------------------------------------------------------------ submission

  /**
   * Serializes the arguments. Top-level refs are resolved by the caller first (Ray resolves dependencies before a
   * task is scheduled): owned ones once ready, inline when small; borrowed ones are fetched by the worker from their
   * owner. `ready` is a promise only when some owned dependency is still pending. `nested`: the refs we own found
   * nested inside the arguments (not top-level), for the call to pin until it settles.
   */
  prepareArgs(args: readonly unknown[]): { nested: string[]; ready: PreparedArgs | Promise<PreparedArgs> } {
    let refIdx: number[] | undefined;
    for (let i = 0; i < args.length; i++) if (args[i] instanceof ObjectRef) (refIdx ??= []).push(i);
    const nested: string[] = [];
    if (!refIdx) return { nested, ready: { args: this.encodeCapturing(args, nested) } };
    const plain = args.slice();
    for (const i of refIdx) plain[i] = null;
    const encoded = this.encodeCapturing(plain, nested);
    const pending: Promise<void>[] = [];
    for (const i of refIdx) {
      const e = this.owned.get((args[i] as ObjectRef).id);
      if (e && e.state === 'pending' && (args[i] as ObjectRef).ownerId === this.connId) pending.push(this.whenSettled(e));
    }
    const build = () => ({ args: encoded, refArgs: refIdx!.map((i) => this.refArg(i, args[i] as ObjectRef)) });
    return { nested, ready: pending.length === 0 ? build() : Promise.all(pending).then(build) };
  }

  /** Encodes call arguments or a put value, collecting the owned refs nested in it into `nested` instead of pinning them forever. */
  private encodeCapturing(value: unknown, nested: string[]): Uint8Array {
    const outer = this.nestedCapture;
    const before = nested.length;
    this.nestedCapture = nested;
    try {
      return encodeValue(value);
    } finally {
      this.nestedCapture = outer;
      if (nested.length > before) forgetLastEncoded();
    }
  }

  /**
   * The bytes of a put value that holds refs are leaving this process: whoever decodes them holds those refs where we
   * cannot follow, so they stay pinned for good (the value's own pin no longer suffices).
   */
  private escapeNested(e: OwnedEntry): void {
    if (e.nested && e.holder === this.connId) this.escape(e.nested);
  }

  /** These owned refs went where we cannot follow them: kept until this process shuts down. */
  private escape(ids: readonly string[]): void {
    for (const id of ids) {
      const inner = this.owned.get(id);
      if (inner) inner.escaped = true;
    }
  }

  /** The call or put value `entry` holds the refs nested in it until it settles for good or is freed (releaseNested). */
  private pinNested(entry: OwnedEntry, nested: readonly string[]): void {
    if (nested.length === 0) return;
    for (const id of nested) {
      const inner = this.owned.get(id);
      if (inner) inner.pins = (inner.pins ?? 0) + 1;
    }
    entry.nested = (entry.nested ?? []).concat(nested);
  }

  private refArg(index: number, ref: ObjectRef): RefArg {
    if (ref.ownerId !== this.connId) return { index, objectId: ref.id, holder: ref.ownerId };
    const e = this.owned.get(ref.id);
    if (!e) return { index, objectId: ref.id, error: new ObjectLostError(`object ${ref.id} was freed`).toWire() };
    if (e.state === 'failed') return { index, objectId: ref.id, error: e.error };
    if (e.data && e.data.byteLength <= INLINE_THRESHOLD_BYTES) {
      this.escapeNested(e);
      return { index, objectId: ref.id, data: e.data };
    }
    // The worker will fetch it from us (or from where we say it lives): keep it alive for that.
    e.escaped = true;
    return { index, objectId: ref.id, holder: this.connId };
  }

  /** The head asked us to hold submissions (its queue is full): they wait here, in order, until it lets go. */
  private flowPaused = false;
  private readonly heldSubmits = new Map<string, Message>();

  submitTask<T>(fn: ExportRef, args: readonly unknown[], opts: TaskOptions): ObjectRef<T> {
    const taskId = this.nextId();
    const entry: OwnedEntry = { state: 'pending', lineageRetries: opts.maxRetries, escaped: false, liveRefs: 0 };
    this.owned.set(taskId, entry);
    const ref = this.makeRef<T>(taskId, this.connId);
    const { nested, ready: prepared } = this.prepareArgs(args);
    this.pinNested(entry, nested);
    const send = (p: { args: Uint8Array; refArgs?: RefArg[] }) => {
      entry.spec = { fn, args: p.args, refArgs: p.refArgs, opts };
      this.sendOrFail(taskId, { type: 'submit', taskId, fn, args: p.args, refArgs: p.refArgs, opts });
    };
    if (prepared instanceof Promise) void this.keepAlive(prepared.then(send, (e: Error) => this.settle(taskId, { ok: false, error: wire(e) })));
    else send(prepared);
    return ref;
  }

  private sendOrFail(taskId: string, m: Message): void {
    if (this.closedError) {
      this.settle(taskId, { ok: false, error: wire(this.closedError) });
      return;
    }
    if (m.type === 'submit' && (this.flowPaused || this.heldSubmits.size > 0)) {
      this.heldSubmits.set(taskId, m);
      return;
    }
    this.conn.send(m);
  }

  /** Sends the creation at once when its arguments are ready (calls made right after must follow it). */
  createActor(actorId: string, cls: ExportRef, args: readonly unknown[], opts: ActorOptions, getIfExists: boolean): Promise<{ actorId: string; existing: boolean }> {
    const reqId = ++this.reqSeq;
    const reply = this.keepAlive(new Promise<unknown>((resolve, reject) => this.pendingRequests.set(reqId, { resolve, reject })));
    const send = (p: { args: Uint8Array; refArgs?: RefArg[] }) =>
      this.send({ type: 'createActor', actorId, cls, args: p.args, refArgs: p.refArgs, opts, getIfExists, reqId });
    const { nested, ready: prepared } = this.prepareArgs(args);
    // Constructor arguments may live as long as the actor: refs nested in them stay pinned.
    this.escape(nested);
    if (prepared instanceof Promise) {
      const sent = prepared.then(send);
      this.actorChains.set(actorId, sent.catch(() => {}));
      return sent.then(() => reply) as Promise<{ actorId: string; existing: boolean }>;
    }
    send(prepared);
    return reply as Promise<{ actorId: string; existing: boolean }>;
  }

  /** Actor calls keep their submission order even when some wait for their arguments. */
  private readonly actorChains = new Map<string, Promise<void>>();

  callActor<T>(actorId: string, method: string, args: readonly unknown[]): ObjectRef<T> {
    const taskId = this.nextId();
    const entry: OwnedEntry = { state: 'pending', lineageRetries: 0, escaped: false, liveRefs: 0 };
    this.owned.set(taskId, entry);
    const ref = this.makeRef<T>(taskId, this.connId);
    const { nested, ready: prepared } = this.prepareArgs(args);
    this.pinNested(entry, nested);
    const chain = this.actorChains.get(actorId);
    const send = (p: { args: Uint8Array; refArgs?: RefArg[] }) => this.sendCall({ type: 'callActor', taskId, actorId, method, args: p.args, refArgs: p.refArgs });
    if (!chain && !(prepared instanceof Promise)) {
      send(prepared);
      return ref;
    }
    const next = (chain ?? Promise.resolve())
      .then(() => prepared)
      .then(send, (e: Error) => this.settle(taskId, { ok: false, error: wire(e) }));
    this.actorChains.set(actorId, next);
    void next.then(() => {
      if (this.actorChains.get(actorId) === next) this.actorChains.delete(actorId);
    });
    return ref;
  }

  /** Straight to the actor's process when we can, else through the head. */
  private sendCall(m: MessageOf<'callActor'>): void {
    const route = this.directRoutes.get(m.actorId);
    if (route?.conn && !this.headCallsPerActor.has(m.actorId) && !this.closedError) {
      route.inflight.set(m.taskId, m);
      route.conn.send(m);
      return;
    }
    this.headCalls.set(m.taskId, m.actorId);
    this.headCallsPerActor.set(m.actorId, (this.headCallsPerActor.get(m.actorId) ?? 0) + 1);
    this.sendOrFail(m.taskId, m);
  }

  private headCallAnswered(taskId: string): void {
    const actorId = this.headCalls.get(taskId);
    if (actorId === undefined) return;
    this.headCalls.delete(taskId);
    const n = this.headCallsPerActor.get(actorId)! - 1;
    if (n > 0) this.headCallsPerActor.set(actorId, n);
    else this.headCallsPerActor.delete(actorId);
  }

  /** The head told us where an actor takes direct calls: connect there (once per incarnation). */
  private onActorLocation(m: MessageOf<'actorLocation'>): void {
    const known = this.directRoutes.get(m.actorId);
    if (m.address === undefined) {
      // That incarnation is gone: whatever was sent to it goes back to the head.
      if (known && known.incarnation <= m.incarnation) this.directLost(m.actorId, known, true);
      return;
    }
    if (known && known.incarnation >= m.incarnation) return;
    if (known) this.directLost(m.actorId, known, true);
    const route: DirectRoute = { incarnation: m.incarnation, inflight: new Map() };
    this.directRoutes.set(m.actorId, route);
    dial(m.address, { role: this.options.role, token: this.options.token, pid: process.pid, hostname: hostname() }, { connectTimeoutMs: 5000 }).then(
      ({ conn }) => {
        if (this.directRoutes.get(m.actorId) !== route || this.closedError) {
          conn.close(1000, 'not needed');
          return;
        }
        conn.setTiming(this.welcomeHeartbeatMs, 0);
        if (this.options.role === 'driver') conn.setKeepsProcessAlive(false);
        conn.onMessage((reply) => {
          if (reply.type !== 'taskDone') return;
          route.inflight.delete(reply.taskId);
          this.settle(reply.taskId, reply.result);
        });
        conn.onClose(() => this.directLost(m.actorId, route));
        route.conn = conn;
      },
      // Unreachable (another network, a firewall): calls keep going through the head.
      () => {},
    );
  }

  /** The direct connection closed: unanswered calls go to the head, which knows whether the actor lives on. */
  private directLost(actorId: string, route: DirectRoute, close = false): void {
    if (this.directRoutes.get(actorId) === route) this.directRoutes.delete(actorId);
    const conn = route.conn;
    route.conn = undefined;
    // Its close event finds the route empty; a late answer on it is dropped.
    if (close) conn?.terminate('actor incarnation gone');
    const lost = [...route.inflight.values()];
    route.inflight.clear();
    for (const m of lost) {
      const e = this.owned.get(m.taskId);
      if (e && e.state !== 'pending') continue;
      this.sendCall({ ...m, lostFrom: route.incarnation });
    }
  }

  /** Sends held submissions a slice per turn, stopping as soon as the head pauses us again (never a burst that
   *  would make it stop reading, which would hold back our cancels). */
  private flushHeld(): void {
    if (this.flowPaused || this.closedError) return;
    let n = 0;
    for (const [id, m] of this.heldSubmits) {
      if (n++ === HELD_SLICE) {
        setImmediate(() => this.flushHeld());
        return;
      }
      this.heldSubmits.delete(id);
      this.conn.send(m);
    }
  }

  cancel(ref: ObjectRef, force: boolean): void {
    for (const route of this.directRoutes.values()) {
      if (route.conn && route.inflight.has(ref.id)) {
        route.conn.send({ type: 'cancel', taskId: ref.id, force });
        return;
      }
    }
    if (this.heldSubmits.delete(ref.id)) {
      this.settle(ref.id, { ok: false, error: new TaskCancelledError(`task ${ref.id} was cancelled before it was submitted`).toWire() });
      return;
    }
    this.send({ type: 'cancel', taskId: ref.id, force });
  }

  async request(op: RequestOp, fields: Partial<Extract<Message, { type: 'request' }>> = {}): Promise<unknown> {
    if (this.closedError) throw this.closedError;
    const reqId = ++this.reqSeq;
    const p = new Promise<unknown>((resolve, reject) => this.pendingRequests.set(reqId, { resolve, reject }));
    this.conn.send({ ...fields, type: 'request', reqId, op });
    return this.keepAlive(p);
  }

  // ------------------------------------------------------------------ get / wait

  private whenSettled(e: OwnedEntry): Promise<void> {
    if (e.state !== 'pending') return Promise.resolve();
    return new Promise((resolve) => (e.waiters ??= []).push(resolve));
  }

  /** Resolves to the serialized value of a ref, fetching and rebuilding as needed. */
  async resolveBytes(ref: ObjectRef): Promise<Uint8Array> {
    if (ref.ownerId !== this.connId) return this.fetchChain(ref.id, ref.ownerId);
    for (;;) {
      const e = this.owned.get(ref.id);
      if (!e) throw new ObjectLostError(`object ${ref.id} is no longer available (freed)`);
      if (e.state === 'pending') await this.whenSettled(e);
      if (e.state === 'failed') throw fromWireError(e.error!);
      if (e.data) return e.data;
      if (e.holder === this.connId) {
        const local = this.held.get(ref.id);
        if (local) return local;
        throw new ObjectLostError(`object ${ref.id} is no longer held here`);
      }
      try {
        return await this.fetchChain(ref.id, e.holder!);
      } catch (error) {
        if (!(error instanceof ObjectLostError)) throw error;
        // Lineage: re-run the task that made it, if its retries allow (a put value cannot be rebuilt).
        if (!e.spec || e.lineageRetries === 0) {
          throw new ObjectLostError(`the value of ${ref.id} was lost with its holder and cannot be rebuilt${e.spec ? ' (retries exhausted)' : ' (a put value)'}: ${error.message}`, { cause: error });
        }
        if (e.state !== 'pending') {
          if (e.lineageRetries > 0) e.lineageRetries--;
          e.state = 'pending';
          e.holder = undefined;
          const s = e.spec;
          this.sendOrFail(ref.id, { type: 'submit', taskId: ref.id, fn: s.fn, args: s.args, refArgs: s.refArgs, opts: s.opts });
        }
      }
    }
  }

  private async fetchChain(objectId: string, holder: string): Promise<Uint8Array> {
    let peer = holder;
    for (let hops = 0; hops < 8; hops++) {
      const reply = await this.fetchOnce(objectId, peer);
      if (!reply.ok) throw fromWireError(reply.error ?? { code: 'OBJECT_LOST', name: 'ObjectLostError', message: `fetch of ${objectId} failed` });
      if (reply.data) return reply.data;
      if (!reply.holder) throw new ObjectLostError(`fetch of ${objectId} returned neither data nor holder`);
      peer = reply.holder;
    }
    throw new ObjectLostError(`fetch of ${objectId}: too many redirects`);
  }

  private fetchOnce(objectId: string, peer: string): Promise<Extract<Message, { type: 'fetched' }>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const reqId = ++this.reqSeq;
    return new Promise((resolve) => {
      this.pendingFetches.set(reqId, { resolve });
      this.conn.send({ type: 'fetch', reqId, objectId, peer });
    });
  }

  /** Fast path: the decoded value when it is owned and inline already, else undefined. */
  private readyValue(ref: ObjectRef): { value: unknown } | undefined {
    if (ref.ownerId !== this.connId) return undefined;
    const e = this.owned.get(ref.id);
    if (!e || e.state !== 'ready' || !e.data) return undefined;
    return { value: decodeValue(e.data) };
  }

  async getValue(ref: ObjectRef): Promise<unknown> {
    const fast = this.readyValue(ref);
    if (fast) return fast.value;
    return decodeValue(await this.resolveBytes(ref));
  }

  async get(refs: readonly ObjectRef[], timeoutMs: number | undefined): Promise<unknown[]> {
    const out: unknown[] = new Array(refs.length);
    let slow: Promise<void>[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (!(r instanceof ObjectRef)) throw new InvalidArgumentError(`get() expects ObjectRefs, got ${typeof r} at index ${i}`);
      const fast = this.readyValue(r);
      if (fast) out[i] = fast.value;
      else (slow ??= []).push(this.getValue(r).then((v) => void (out[i] = v)));
    }
    if (!slow) return out;
    if (timeoutMs === 0) {
      // Settle what is settled within this turn of the loop, as Ray's timeout=0 does.
      await Promise.race([Promise.all(slow), new Promise((r) => setImmediate(r))]);
    }
    await this.blocking(this.keepAlive(withTimeout(Promise.all(slow), timeoutMs, () => new GetTimeoutError(`get() timed out after ${timeoutMs} ms`))));
    return out;
  }

  private async blocking<T>(p: Promise<T>): Promise<T> {
    const hook = this.blockingHook;
    if (!hook) return p;
    hook(true);
    try {
      return await p;
    } finally {
      hook(false);
    }
  }

  /** Ray's wait: [ready, notReady], both in input order. */
  async wait(refs: readonly ObjectRef[], numReturns: number, timeoutMs: number | undefined, fetchLocal: boolean): Promise<[ObjectRef[], ObjectRef[]]> {
    if (new Set(refs.map((r) => r.id)).size !== refs.length) throw new InvalidArgumentError('wait() requires unique refs');
    if (numReturns < 1 || numReturns > refs.length) {
      if (refs.length === 0) return [[], []];
      throw new InvalidArgumentError(`wait(): numReturns must be in 1..${refs.length}, got ${numReturns}`);
    }
    const ready = new Set<number>();
    const isReady = (i: number): boolean => {
      const r = refs[i]!;
      if (r.ownerId !== this.connId) return false;
      const e = this.owned.get(r.id);
      return !e || e.state !== 'pending';
    };
    for (let i = 0; i < refs.length; i++) if (isReady(i)) ready.add(i);
    if (ready.size < numReturns && timeoutMs !== 0) {
      await this.blocking(
        this.keepAlive(new Promise<void>((resolve) => {
          let done = false;
          const finish = () => {
            if (!done) {
              done = true;
              clearTimeout(timer);
              resolve();
            }
          };
          const timer = timeoutMs === undefined ? undefined : setTimeout(finish, timeoutMs);
          for (let i = 0; i < refs.length; i++) {
            if (ready.has(i)) continue;
            const r = refs[i]!;
            const e = r.ownerId === this.connId ? this.owned.get(r.id) : undefined;
            const p = e ? this.whenSettled(e) : this.resolveBytes(r).then(() => undefined, () => undefined);
            void p.then(() => {
              if (done) return;
              ready.add(i);
              if (ready.size >= numReturns) finish();
            });
          }
        })),
      );
    }
    void fetchLocal;
    const readyList: ObjectRef[] = [];
    const rest: ObjectRef[] = [];
    const chosen = [...ready].sort((a, b) => a - b).slice(0, numReturns);
    const chosenSet = new Set(chosen);
    refs.forEach((r, i) => (chosenSet.has(i) ? readyList : rest).push(r));
    return [readyList, rest];
  }

  // ------------------------------------------------------------------ inbound

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'taskDone':
        this.headCallAnswered(m.taskId);
        return this.settle(m.taskId, m.result);
      case 'actorLocation':
        return this.onActorLocation(m);
      case 'flow':
        this.flowPaused = m.paused;
        if (!m.paused) this.flushHeld();
        return;
      case 'reply': {
        const p = this.pendingRequests.get(m.reqId);
        if (!p) return;
        this.pendingRequests.delete(m.reqId);
        if (m.ok) p.resolve(m.value);
        else p.reject(fromWireError(m.error ?? { code: 'PROTOCOL', name: 'ProtocolError', message: 'request failed' }));
        return;
      }
      case 'fetch':
        return this.serveFetch(m.reqId, m.objectId, m.peer);
      case 'fetched': {
        const p = this.pendingFetches.get(m.reqId);
        if (!p) return;
        this.pendingFetches.delete(m.reqId);
        p.resolve(m);
        return;
      }
      case 'free':
        // From an owner: drop what we hold for it. From a borrower: it no longer holds our refs.
        for (const id of m.ids) {
          this.held.delete(id);
          const e = this.owned.get(id);
          if (e?.borrowers?.delete(m.peer)) this.maybeFree(id, e);
        }
        return;
      case 'log': {
        if (this.options.logToDriver === false) return;
        const out = m.stream === 'stdout' ? process.stdout : process.stderr;
        const prefix = `(pid=${m.pid}, node=${m.nodeId.slice(0, 8)}) `;
        out.write(m.lines.map((l) => prefix + l).join('\n') + '\n');
        return;
      }
      default:
        if (this.work) this.work(m);
        else this.workBacklog.push(m);
    }
  }

  private settle(taskId: string, result: TaskResult): void {
    if (result.borrowed) {
      for (const id of result.borrowed.ids) {
        const inner = this.owned.get(id);
        if (inner) (inner.borrowers ??= new Set()).add(result.borrowed.by);
      }
    }
    const e = this.owned.get(taskId);
    if (!e) {
      if (result.holder && result.holder !== this.connId && !this.closedError) this.conn.send({ type: 'free', peer: result.holder, ids: [taskId] });
      return;
    }
    if (e.state !== 'pending') return;
    if (result.ok) {
      e.state = 'ready';
      e.data = result.data;
      e.holder = result.holder;
      if (result.data) e.spec = undefined;
    } else {
      e.state = 'failed';
      e.error = result.error;
      e.spec = undefined;
    }
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
    // No lineage to replay: the arguments' nested refs are free to go (else they go with this entry).
    if (!e.spec) this.releaseNested(e);
    // Every ref may have been dropped before the result came: then nothing can read it.
    if (!this.closedError) this.maybeFree(taskId, e);
  }

  private serveFetch(reqId: number, objectId: string, peer: string): void {
    const reply = (r: { ok: boolean; data?: Uint8Array; holder?: string; error?: WireError }) => {
      if (!this.closedError) this.conn.send({ type: 'fetched', reqId, peer, ...r });
    };
    const local = this.held.get(objectId);
    if (local) return reply({ ok: true, data: local });
    const e = this.owned.get(objectId);
    if (!e) return reply({ ok: false, error: new ObjectLostError(`object ${objectId} is not known to its owner or holder ${this.connId} (freed or lost)`).toWire() });
    // Whoever asked holds a ref: a borrower we know of tells us when it lets go; anyone else pins it for good.
    if (!e.borrowers?.has(peer)) e.escaped = true;
    this.escapeNested(e);
    void this.whenSettled(e).then(() => {
      if (e.state === 'failed') reply({ ok: false, error: e.error });
      else if (e.data) reply({ ok: true, data: e.data });
      else if (e.holder === this.connId) reply({ ok: false, error: new ObjectLostError(`object ${objectId} is no longer held by ${this.connId}`).toWire() });
      else reply({ ok: true, holder: e.holder });
    });
  }

  /** A worker keeps a large result here and tells the head where it lives. */
  hold(id: string, data: Uint8Array): void {
    this.held.set(id, data);
  }

  /** Drops a large value held here that nobody will read (its call was cancelled). */
  unhold(id: string): void {
    this.held.delete(id);
  }

  heldCount(): number {
    return this.held.size;
  }

  private onClosed(reason: string): void {
    this.closedError = new ConnectionClosedError(`connection to the head closed (${reason})`);
    this.heldSubmits.clear();
    for (const route of this.directRoutes.values()) {
      route.inflight.clear();
      route.conn?.close(1000, 'shutdown');
    }
    this.directRoutes.clear();
    const error = wire(this.closedError);
    for (const [id, e] of this.owned) if (e.state === 'pending') this.settle(id, { ok: false, error });
    for (const p of this.pendingRequests.values()) p.reject(this.closedError);
    this.pendingRequests.clear();
    for (const p of this.pendingFetches.values()) p.resolve({ type: 'fetched', reqId: 0, peer: '', ok: false, error });
    this.pendingFetches.clear();
    for (const l of this.closeListeners) l(reason);
  }
}

function wire(e: Error): WireError {
  const r = e as Error & { toWire?: () => WireError };
  return r.toWire ? r.toWire() : { code: 'TASK_ERROR', name: e.name, message: e.message, stack: e.stack, remoteName: e.name, remoteMessage: e.message, remoteStack: e.stack };
}

export function withTimeout<T>(p: Promise<T>, timeoutMs: number | undefined, makeError: () => Error): Promise<T> {
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) return p;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(makeError()), Math.max(0, timeoutMs));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
