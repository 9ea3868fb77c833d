/**
 * The node agent: registers the node's resources with the head, starts and supervises worker processes when the head
 * asks, writes each worker's stdout/stderr to log files and streams the lines to the head (which forwards them to the
 * driver). Workers get the cluster token over their IPC channel, never on the command line. When the head connection
 * drops the agent reconnects with exponential backoff; its workers keep running until the head declares the node dead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dial, type Connection, type Labels, type Message, type Resources } from '../../protocol/index.js';

export interface AgentConfig {
  headAddress: string;
  token: string;
  resources: Resources;
  gpuIds: number[];
  labels?: Labels;
  isHead?: boolean;
  tempDir: string;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Stop trying after this long without the head (0 = forever). */
  giveUpAfterMs?: number;
  log?: (line: string) => void;
}

/** Message the agent sends a new worker over IPC. */
export interface WorkerInit {
  kind: 'init';
  headAddress: string;
  token: string;
  workerId: string;
  nodeId: string;
  actorId?: string;
  tempDir: string;
  /** Runtime env vars the worker was started for: its own submissions inherit them. */
  runtimeEnvVars?: Record<string, string>;
}

interface ChildWorker {
  workerId: string;
  child: ChildProcess;
  out: WriteStream;
  err: WriteStream;
}

export class Agent {
  nodeId: string | undefined;
  private conn: Connection | undefined;
  private readonly children = new Map<string, ChildWorker>();
  private stopping = false;
  private readonly log: (line: string) => void;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connected: Promise<void> | undefined;
  private readonly logDir: string;
  onGiveUp: (() => void) | undefined;

  constructor(readonly config: AgentConfig) {
    this.log = config.log ?? (() => {});
    this.logDir = join(config.tempDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Connects and registers; resolves once the head has welcomed the node. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const { conn, welcome, early } = await dial(
      this.config.headAddress,
      {
        role: 'agent',
        token: this.config.token,
        pid: process.pid,
        hostname: hostname(),
        nodeId: this.nodeId,
        resources: this.config.resources,
        labels: this.config.labels ?? {},
        gpuIds: this.config.gpuIds,
        isHead: this.config.isHead ?? false,
      },
      { connectTimeoutMs: 10_000 },
    );
    if (this.nodeId && welcome.nodeId !== this.nodeId) {
      // The head declared our old node dead: its workers are gone as far as the cluster knows.
      this.log(`re-registered as a new node ${welcome.nodeId} (was ${this.nodeId}); stopping old workers`);
      for (const c of this.children.values()) c.child.kill('SIGKILL');
    }
    this.nodeId = welcome.nodeId;
    this.conn = conn;
    conn.setTiming(welcome.heartbeatMs, welcome.heartbeatMs * 10);
    conn.onMessage((m) => this.onMessage(m));
    conn.onClose((reason) => this.onDisconnected(reason));
    for (const m of early) this.onMessage(m);
  }

  private onDisconnected(reason: string): void {
    this.conn = undefined;
    if (this.stopping) return;
    this.log(`lost the head (${reason}); reconnecting`);
    const first = this.config.reconnectDelayMs ?? 100;
    const max = this.config.maxReconnectDelayMs ?? 5000;
    const since = Date.now();
    let delay = first;
    const attempt = () => {
      this.reconnectTimer = undefined;
      if (this.stopping) return;
      this.connect().then(
        () => this.log(`reconnected to the head as node ${this.nodeId}`),
        (error: Error) => {
          const giveUp = this.config.giveUpAfterMs ?? 0;
          if (giveUp > 0 && Date.now() - since > giveUp) {
            this.log(`giving up on the head after ${Date.now() - since} ms: ${error.message}`);
            this.onGiveUp?.();
            return;
          }
          delay = Math.min(max, delay * 2);
          this.reconnectTimer = setTimeout(attempt, delay * (0.75 + Math.random() * 0.5));
        },
      );
    };
    this.reconnectTimer = setTimeout(attempt, delay);
  }

  private onMessage(m: Message): void {
    if (m.type === 'startWorker') this.startWorker(m.workerId, m.env, m.actorId, m.runtimeEnvVars);
    else if (m.type === 'killWorker') this.children.get(m.workerId)?.child.kill('SIGKILL');
  }

  private startWorker(workerId: string, env: Record<string, string>, actorId: string | undefined, runtimeEnvVars: Record<string, string> | undefined): void {
    const main = fileURLToPath(new URL('../worker/main.js', import.meta.url));
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, DHTS_NODE_ID: this.nodeId, DHTS_WORKER_ID: workerId };
    if (!env.CUDA_VISIBLE_DEVICES) delete childEnv.CUDA_VISIBLE_DEVICES;
    delete childEnv.DHTS_TOKEN;
    // --expose-gc: an idle worker that still borrows refs collects its garbage, so their owners hear it let go.
    const child = spawn(process.execPath, ['--expose-gc', main], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: childEnv });
    const base = join(this.logDir, `worker-${workerId}`);
    const out = createWriteStream(`${base}.out`);
    const err = createWriteStream(`${base}.err`);
    const rec: ChildWorker = { workerId, child, out, err };
    this.children.set(workerId, rec);
    const init: WorkerInit = {
      kind: 'init',
      headAddress: this.config.headAddress,
      token: this.config.token,
      workerId,
      nodeId: this.nodeId!,
      actorId,
      tempDir: this.config.tempDir,
      runtimeEnvVars,
    };
    child.send(init);
    this.pipe(rec, 'stdout', child.stdout!, out);
    this.pipe(rec, 'stderr', child.stderr!, err);
    child.on('error', (e) => this.log(`worker ${workerId} failed to start: ${e.message}`));
    child.on('exit', (code, signal) => {
      this.children.delete(workerId);
      out.end();
      err.end();
      this.conn?.send({ type: 'workerExit', workerId, pid: child.pid ?? 0, code, signal });
    });
  }

  private pipe(rec: ChildWorker, stream: 'stdout' | 'stderr', from: NodeJS.ReadableStream, file: WriteStream): void {
    let partial = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      file.write(chunk);
      const text = partial + chunk;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      if (lines.length) this.sendLines(rec, stream, lines);
    });
    from.on('end', () => {
      if (partial) this.sendLines(rec, stream, [partial]);
    });
  }

  private sendLines(rec: ChildWorker, stream: 'stdout' | 'stderr', lines: string[]): void {
    this.conn?.send({ type: 'log', workerId: rec.workerId, pid: rec.child.pid ?? 0, nodeId: this.nodeId ?? '', stream, lines });
  }

  /** Pids of the worker processes alive now. */
  workerPids(): number[] {
    return [...this.children.values()].map((c) => c.child.pid ?? 0).filter((p) => p > 0);
  }

  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.conn?.close(1000, 'agent stopping');
    const exits = [...this.children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.child.exitCode !== null || c.child.signalCode !== null) return resolve();
          c.child.once('exit', () => resolve());
          c.child.kill('SIGTERM');
          setTimeout(() => c.child.kill('SIGKILL'), graceMs).unref();
        }),
    );
    await Promise.all(exits);
  }
}
