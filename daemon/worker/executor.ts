/**
 * Runs work in a worker process: imports functions and classes by module URL and export name, resolves ref
 * arguments, runs tasks one at a time (a task worker) or actor calls up to maxConcurrency (an actor worker), and
 * answers with the value (inline when small, held here when large) or the error with its remote stack.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ActorDiedError,
  TaskCancelledError,
  TaskError,
  fromWireError,
  toWireError,
  type Connection,
  type ExportRef,
  type Message,
  type RefArg,
  type TaskResult,
} from '../../protocol/index.js';
import { INLINE_THRESHOLD_BYTES, type CoreClient } from '../../client/runtime/core.js';
import { runtimeContextStorage, type TaskContext } from '../../client/runtime/context.js';
import { decodeValue, encodeValue } from '../../client/runtime/serialize.js';
import { ObjectRef } from '../../client/runtime/object-ref.js';
import { fullGc } from '../../client/runtime/collector.js';
import { startDirectServer } from './direct-server.js';

type Callable = (...args: unknown[]) => unknown;
type ActorCall = Omit<Extract<Message, { type: 'runActorTask' }>, 'type'>;
/** A queued actor call and where its answer goes: back through the head, or on the caller's direct connection. */
interface QueuedCall {
  call: ActorCall;
  reply: (m: Message) => void;
}
type Constructor = new (...args: unknown[]) => Record<string, unknown>;

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** Maps a module URL to the one to import on this node (working-dir packages: daemon/jobs/working-dir.ts). */
let moduleResolver: (url: string) => Promise<string> = async (url) => url;
export function setModuleResolver(resolver: (url: string) => Promise<string>): void {
  moduleResolver = resolver;
}

async function loadExport(ref: ExportRef): Promise<unknown> {
  let mod = modules.get(ref.module);
  if (!mod) {
    mod = moduleResolver(ref.module).then((url) => import(url) as Promise<Record<string, unknown>>);
    modules.set(ref.module, mod);
    mod.catch(() => modules.delete(ref.module));
  }
  const m = await mod;
  if (!(ref.name in m)) throw new TypeError(`module ${ref.module} has no export named '${ref.name}'`);
  return m[ref.name];
}

function isClass(v: unknown): boolean {
  return typeof v === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(v));
}

export class Executor {
  private actor: Record<string, unknown> | undefined;
  private actorId: string | undefined;
  private maxConcurrency = 1;
  private running = 0;
  private readonly callQueue: QueuedCall[] = [];
  /** Direct calls cancelled while running: the caller was answered already, so their own answer is dropped. */
  private readonly cancelledDirect = new Set<string>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly ctxStore: AsyncLocalStorage<TaskContext> = runtimeContextStorage;
  private currentTaskId: string | undefined;
  private blockedDepth = 0;

  constructor(
    private readonly core: CoreClient,
    private readonly workerId: string,
    private readonly nodeId: string,
  ) {
    core.workHandler = (m) => this.onMessage(m);
    // A task waiting in get() lends its CPU back so that the tasks it waits for can run (Ray does the same).
    core.blockingHook = (blocked) => {
      const taskId = this.currentTaskId;
      if (!taskId || this.actorId) return;
      if (blocked) {
        if (this.blockedDepth++ === 0) core.send({ type: 'taskBlocked', taskId, blocked: true });
      } else if (--this.blockedDepth === 0) core.send({ type: 'taskBlocked', taskId, blocked: false });
    };
  }

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'runTask':
        void this.runTask(m);
        return;
      case 'startActor':
        void this.startActor(m);
        return;
      case 'runActorTask':
        this.callQueue.push({ call: m, reply: (r) => this.core.send(r) });
        this.drainCalls();
        return;
      case 'exitIfIdle': {
        // Objects this process owns or holds would be lost with it: stay (Ray's idle exit is refused likewise).
        const exiting = this.controllers.size === 0 && !this.actorId && this.core.ownedCount() === 0 && this.core.heldCount() === 0;
        this.core.send({ type: 'exitReply', exiting });
        if (exiting) setTimeout(() => this.core.close(1000, 'idle worker exiting'), 20);
        return;
      }
      case 'interrupt':
        this.controllers.get(m.taskId)?.abort(new TaskCancelledError(`task ${m.taskId} was cancelled`));
        return;
      default:
        return;
    }
  }

  /** Decodes a call's arguments; `borrowed` collects the refs found inside them (reported with the result). */
  private async resolveArgs(args: Uint8Array, refArgs: RefArg[] | undefined, borrowed: string[]): Promise<unknown[]> {
    const decode = <T>(data: Uint8Array): T => {
      const { value, refs } = this.core.captureForeign(() => decodeValue<T>(data));
      borrowed.push(...refs);
      return value;
    };
    const values = decode<unknown[]>(args);
    if (!refArgs) return values;
    await Promise.all(
      refArgs.map(async (r) => {
        if (r.error) throw fromWireError(r.error);
        if (r.data) values[r.index] = decode(r.data);
        else values[r.index] = decode(await this.core.resolveBytes(new ObjectRef(r.objectId, r.holder!)));
      }),
    );
    return values;
  }

  private result(taskId: string, value: unknown): TaskResult {
    const data = encodeValue(value);
    if (data.byteLength <= INLINE_THRESHOLD_BYTES) return { ok: true, data };
    this.core.hold(taskId, data);
    return { ok: true, holder: this.core.connId, size: data.byteLength };
  }

  /** The result, telling the caller which refs from the arguments this process still holds (Ray's borrowing). */
  private withBorrowed(result: TaskResult, refs: readonly string[]): TaskResult {
    const ids = refs.length ? this.core.stillBorrowed(refs) : undefined;
    if (!ids) return result;
    this.scheduleIdleGc();
    return { ...result, borrowed: { by: this.core.connId, ids } };
  }

  private idleGc: NodeJS.Timeout | undefined;
  private lastGc = 0;

  /**
   * A ref dies only when V8 collects it, and an idle process may not collect for a long time: once idle, a worker
   * that still borrows refs runs a full GC (small heap, a few ms; at most once a second), as Ray's workers run
   * Python's gc when the object store asks, so that owners can free values no one holds any more.
   */
  private scheduleIdleGc(): void {
    const gc = fullGc();
    if (!gc || this.idleGc) return;
    this.idleGc = setTimeout(() => {
      this.idleGc = undefined;
      if (this.running > 0 || this.controllers.size > 0 || !this.core.holdsReportedBorrows) return;
      if (Date.now() - this.lastGc < 1000) {
        this.scheduleIdleGc();
        return;
      }
      this.lastGc = Date.now();
      gc();
    }, 200);
    this.idleGc.unref();
  }

  private context(taskId: string, signal: AbortSignal): TaskContext {
    return { taskId, actorId: this.actorId, nodeId: this.nodeId, workerId: this.workerId, signal };
  }

  private async runTask(m: Extract<Message, { type: 'runTask' }>): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(m.taskId, controller);
    this.currentTaskId = m.taskId;
    this.blockedDepth = 0;
    if (m.gpuIds) process.env.CUDA_VISIBLE_DEVICES = m.gpuIds.join(',');
    let result: TaskResult;
    const borrowed: string[] = [];
    try {
      const fn = await loadExport(m.fn);
      if (typeof fn !== 'function' || isClass(fn)) {
        throw new TypeError(`export '${m.fn.name}' of ${m.fn.module} is ${isClass(fn) ? 'a class: create it as an actor (remote(..., { kind: "actor" }))' : 'not a function'}`);
      }
      const args = await this.resolveArgs(m.args, m.refArgs, borrowed);
      const value = await this.ctxStore.run(this.context(m.taskId, controller.signal), () => (fn as Callable)(...args));
      result = this.result(m.taskId, value);
    } catch (error) {
      result = { ok: false, error: toWireError(error instanceof TaskError || isRuntimeError(error) ? error : TaskError.fromUserError(`task ${m.fn.name}`, error)) };
    } finally {
      this.controllers.delete(m.taskId);
      this.currentTaskId = undefined;
      if (m.gpuIds) delete process.env.CUDA_VISIBLE_DEVICES;
    }
    this.core.send({ type: 'taskDone', taskId: m.taskId, result: this.withBorrowed(result, borrowed) });
  }

  private async startActor(m: Extract<Message, { type: 'startActor' }>): Promise<void> {
    this.actorId = m.actorId;
    this.maxConcurrency = m.maxConcurrency;
    try {
      const Cls = await loadExport(m.cls);
      if (typeof Cls !== 'function') throw new TypeError(`export '${m.cls.name}' of ${m.cls.module} is not a class`);
      const args = await this.resolveArgs(m.args, m.refArgs, []);
      const controller = new AbortController();
      this.actor = await this.ctxStore.run(this.context(m.actorId, controller.signal), () => new (Cls as Constructor)(...args));
      this.core.send({ type: 'actorReady', actorId: m.actorId, ok: true, directAddress: await this.openDirectEndpoint() });
      this.drainCalls();
    } catch (error) {
      this.core.send({ type: 'actorReady', actorId: m.actorId, ok: false, error: toWireError(TaskError.fromUserError(`constructor of ${m.cls.name}`, error)) });
    }
  }

  /** Listens for direct calls on the interface the head reaches us on; without it, calls keep coming through the head. */
  private async openDirectEndpoint(): Promise<string | undefined> {
    try {
      const endpoint = await startDirectServer({
        host: this.core.localAddress ?? '127.0.0.1',
        token: this.core.options.token,
        heartbeatMs: this.core.heartbeatMs,
        onCall: (m, conn) => {
          this.callQueue.push({ call: m, reply: (r) => conn.send(r) });
          this.drainCalls();
        },
        onCancel: (taskId, conn) => this.cancelDirect(taskId, conn),
      });
      return endpoint.address;
    } catch (error) {
      process.stderr.write(`dhts worker: no direct-call endpoint (${(error as Error).message}); calls go through the head\n`);
      return undefined;
    }
  }

  /** Ray's cancel of an actor call: a queued call is dropped, a running one sees its AbortSignal fire. */
  private cancelDirect(taskId: string, conn: Connection): void {
    const cancelled = new TaskCancelledError(`task ${taskId} was cancelled`);
    const answer = () => conn.send({ type: 'taskDone', taskId, result: { ok: false, error: toWireError(cancelled) } });
    const i = this.callQueue.findIndex((q) => q.call.taskId === taskId);
    if (i >= 0) {
      this.callQueue.splice(i, 1);
      answer();
      return;
    }
    const controller = this.controllers.get(taskId);
    if (!controller) return;
    this.cancelledDirect.add(taskId);
    answer();
    controller.abort(cancelled);
  }

  private drainCalls(): void {
    if (!this.actor) return;
    while (this.running < this.maxConcurrency && this.callQueue.length) {
      const m = this.callQueue.shift()!;
      this.running++;
      void this.runCall(m).finally(() => {
        this.running--;
        this.drainCalls();
      });
    }
  }

  private async runCall({ call: m, reply }: QueuedCall): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(m.taskId, controller);
    let result: TaskResult;
    const borrowed: string[] = [];
    try {
      const actor = this.actor;
      if (!actor) throw new ActorDiedError('actor is not constructed');
      const method = actor[m.method];
      if (typeof method !== 'function') throw new TypeError(`actor has no method '${m.method}'`);
      const args = await this.resolveArgs(m.args, m.refArgs, borrowed);
      const value = await this.ctxStore.run(this.context(m.taskId, controller.signal), () => (method as Callable).apply(actor, args));
      result = this.result(m.taskId, value);
    } catch (error) {
      result = { ok: false, error: toWireError(isRuntimeError(error) ? error : TaskError.fromUserError(`actor method ${m.method}`, error)) };
    } finally {
      this.controllers.delete(m.taskId);
    }
    if (this.cancelledDirect.delete(m.taskId)) {
      if (result.ok && result.holder) this.core.unhold(m.taskId);
      return;
    }
    reply({ type: 'taskDone', taskId: m.taskId, result: this.withBorrowed(result, borrowed) });
  }
}

function isRuntimeError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && typeof (e as { toWire?: unknown }).toWire === 'function';
}
