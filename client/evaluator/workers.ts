// The thread and process backends: each slot is a worker thread or a forked child process running worker-main.js.
// A timed-out or stopped run that does not return within the grace period is killed with its thread or process.
import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { errorMessage, PoolEvaluator, type RunOutcome, type SlotHooks, type WorkerSlot } from './pool.js';
import type { EvaluatorMethod, JobSpec } from './types.js';
import type { HostMessage, WorkerMessage } from './wire.js';

const WORKER_MAIN = new URL('./worker-main.js', import.meta.url);

/** What differs between a thread and a process: starting, messaging, killing. */
interface Endpoint {
  send(m: HostMessage): void;
  onMessage(fn: (m: WorkerMessage) => void): void;
  /** Called once when the worker is gone, for whatever reason. */
  onExit(fn: (why: string) => void): void;
  kill(): Promise<void>;
  close(): Promise<void>;
  /** Thread only: a flag the run reads without yielding. */
  stopFlag?: Int32Array;
}

class ChannelSlot implements WorkerSlot {
  dead = false;
  private token = 0;
  private settle: ((o: RunOutcome) => void) | undefined;
  private hooks: SlotHooks | undefined;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly source: { specifier: string; exportName: string; runKwargs: unknown },
  ) {
    endpoint.onMessage((m) => this.onMessage(m));
    endpoint.onExit((why) => {
      this.dead = true;
      this.settle?.({ kind: 'crashed', message: why });
    });
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'record') {
      const decision = this.hooks?.onRecord(m.step, m.objective) ?? { stop: true };
      if (decision.stop) this.flagStop();
      this.endpoint.send({ type: 'decision', seq: m.seq, stop: decision.stop });
    } else if (m.type === 'child') this.hooks?.onChild(m.pid);
    else if (m.type === 'done') this.settle?.(m.outcome);
  }

  run(spec: JobSpec, hooks: SlotHooks): Promise<RunOutcome> {
    if (this.dead) return Promise.resolve({ kind: 'crashed', message: 'worker is gone' });
    const token = ++this.token;
    this.hooks = hooks;
    return new Promise<RunOutcome>((resolve) => {
      this.settle = (o) => {
        this.settle = undefined;
        this.hooks = undefined;
        resolve(o);
      };
      const { specifier, exportName, runKwargs } = this.source;
      try {
        this.endpoint.send({ type: 'run', spec, specifier, exportName, runKwargs, token });
      } catch (err) {
        this.settle({ kind: 'threw', message: `cannot send the job to the worker: ${errorMessage(err)}` });
      }
    });
  }

  private flagStop(): void {
    if (this.endpoint.stopFlag) Atomics.store(this.endpoint.stopFlag, 0, this.token);
  }

  requestStop(): void {
    this.flagStop();
    if (!this.dead) this.endpoint.send({ type: 'stop' });
  }

  async kill(): Promise<void> {
    this.dead = true;
    await this.endpoint.kill();
    this.settle?.({ kind: 'crashed', message: 'worker killed' });
  }

  close(): Promise<void> {
    this.dead = true;
    return this.endpoint.close();
  }
}

function startThread(execArgv: string[] | undefined): Promise<Endpoint> {
  const stopBuffer = new SharedArrayBuffer(4);
  // Without execArgv, Node gives the thread this process's flags, minus those a thread cannot take.
  const worker = new Worker(WORKER_MAIN, { workerData: { stopFlag: stopBuffer }, ...(execArgv ? { execArgv } : {}) });
  return ready(worker, {
    send: (m) => worker.postMessage(m),
    onMessage: (fn) => worker.on('message', fn),
    onExit: (fn) => {
      let reported = false;
      const report = (why: string) => {
        if (!reported) fn(why);
        reported = true;
      };
      worker.on('error', (err) => report(`worker thread crashed: ${errorMessage(err)}`));
      worker.on('exit', (code) => report(`worker thread exited with code ${code}`));
    },
    kill: async () => {
      await worker.terminate();
    },
    close: async () => {
      await worker.terminate();
    },
    stopFlag: new Int32Array(stopBuffer),
  });
}

function startProcess(execArgv: string[] | undefined): Promise<Endpoint> {
  const child: ChildProcess = fork(WORKER_MAIN, [], { serialization: 'advanced', execArgv: execArgv ?? process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return ready(child, {
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (fn) => child.on('message', (m) => fn(m as WorkerMessage)),
    onExit: (fn) => {
      child.once('exit', (code, signal) => fn(`worker process exited (${signal ? `signal ${signal}` : `code ${code}`})`));
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  });
}

/** Resolve once the worker says it is ready, reject if it dies first. */
function ready(emitter: Worker | ChildProcess, endpoint: Endpoint): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerMessage) => {
      if (m.type !== 'ready') return;
      cleanup();
      resolve(endpoint);
    };
    const onFail = (err: unknown) => {
      cleanup();
      reject(new Error(`worker failed to start: ${errorMessage(err)}`));
    };
    const onExit = (code: number) => onFail(`exited with code ${code}`);
    const cleanup = () => {
      emitter.off('message', onMessage);
      emitter.off('error', onFail);
      emitter.off('exit', onExit);
    };
    emitter.on('message', onMessage);
    emitter.on('error', onFail);
    emitter.on('exit', onExit);
  });
}

export interface WorkerPoolOptions {
  numWorkers: number;
  timeoutMs?: number;
  killGraceMs: number;
  runKwargs?: unknown;
  /** Node flags of the threads or child processes (default: this process's). */
  execArgv?: string[];
}

export class WorkerPoolEvaluator extends PoolEvaluator {
  readonly method: EvaluatorMethod;
  private readonly source: { specifier: string; exportName: string; runKwargs: unknown };
  private readonly execArgv: string[] | undefined;

  constructor(method: 'thread' | 'process', specifier: string, exportName: string, options: WorkerPoolOptions) {
    super(options);
    this.method = method;
    this.source = { specifier, exportName, runKwargs: options.runKwargs };
    this.execArgv = options.execArgv;
  }

  protected async createSlot(): Promise<WorkerSlot> {
    const endpoint = this.method === 'thread' ? await startThread(this.execArgv) : await startProcess(this.execArgv);
    return new ChannelSlot(endpoint, this.source);
  }
}
