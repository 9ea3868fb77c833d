/**
 * Runs a job's entrypoint on whichever node the scheduler picks, as Ray's JobSupervisor actor does: the job runner
 * (runner.ts, on the head) creates this actor with the entrypoint's resources, so they are reserved by the cluster's
 * own scheduler, then polls its output. The entrypoint gets the head address and token the worker itself uses, and
 * runs in this node's unpacked copy of the job's working dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { kvGet } from '../../client/runtime/api.js';
import { getCore } from '../../client/runtime/state.js';
import { ensureUnpacked, parsePackageUri } from './packages.js';
import { kvPackageFetcher, nodeTempDir, WORKING_DIR_CACHE } from './working-dir.js';

export interface EntrypointSpec {
  readonly jobId: string;
  readonly entrypoint: string;
  readonly env: Readonly<Record<string, string>>;
  /** pkg://<sha256>, or empty. */
  readonly workingDir: string;
}

export interface OutputChunk {
  /** Output from `offset` on (utf-8; stdout and stderr interleaved as written). */
  readonly data: string;
  readonly next: number;
  readonly done: boolean;
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** Output kept for the runner to fetch; older output is dropped past this (the runner polls often). */
const MAX_BUFFERED = 64 << 20;

export class EntrypointSupervisor {
  private readonly spec: EntrypointSpec;
  private child: ChildProcess | undefined;
  private output = Buffer.alloc(0);
  /** Offset of output[0] in the whole output. */
  private base = 0;
  private exit: { code: number | null; signal: string | null } | undefined;

  constructor(spec: EntrypointSpec) {
    this.spec = spec;
  }

  async start(): Promise<{ pid: number; nodeIp: string; hostname: string }> {
    const core = getCore();
    let cwd = process.cwd();
    if (this.spec.workingDir) {
      const hash = parsePackageUri(this.spec.workingDir);
      cwd = await ensureUnpacked(join(nodeTempDir(), WORKING_DIR_CACHE), hash, () => kvPackageFetcher(kvGet)(hash));
    }
    const child = spawn('/bin/sh', ['-c', this.spec.entrypoint], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...this.spec.env,
        DHTS_ADDRESS: core.options.address,
        DHTS_TOKEN: core.options.token,
        DHTS_JOB_ID: this.spec.jobId,
        DHTS_WORKING_DIR: cwd,
        // The entrypoint's driver passes the job's env vars on to its workers (see init()).
        DHTS_RUNTIME_ENV: JSON.stringify({ workingDir: this.spec.workingDir || undefined, envVars: this.spec.env }),
      },
    });
    this.child = child;
    const append = (chunk: Buffer) => {
      this.output = Buffer.concat([this.output, chunk]);
      if (this.output.length > MAX_BUFFERED) {
        const drop = this.output.length - MAX_BUFFERED;
        this.output = this.output.subarray(drop);
        this.base += drop;
      }
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.once('exit', (code, signal) => {
      // Wait for the pipes to drain before saying it is done.
      void closed.then(() => {
        this.exit = { code, signal };
        this.killGroup('SIGKILL');
      });
    });
    // If this worker dies, its entrypoint must not outlive it.
    process.once('exit', () => this.killGroup('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    return { pid: child.pid ?? 0, nodeIp: process.env.DHTS_NODE_IP ?? '', hostname: (await import('node:os')).hostname() };
  }

  read(offset: number): OutputChunk {
    const from = Math.max(0, offset - this.base);
    const data = this.output.subarray(from);
    // Only whole UTF-8 characters: hold back an incomplete trailing sequence.
    let end = data.length;
    for (let back = 1; back <= 3 && back <= data.length; back++) {
      const byte = data[data.length - back]!;
      if ((byte & 0xc0) === 0x80) continue;
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      if (need > back) end = data.length - back;
      break;
    }
    const done = this.exit !== undefined && end === data.length;
    return {
      data: data.subarray(0, end).toString('utf8'),
      next: this.base + from + end,
      done,
      exitCode: done ? this.exit!.code : null,
      signal: done ? this.exit!.signal : null,
    };
  }

  stop(signal: 'SIGTERM' | 'SIGKILL'): boolean {
    if (!this.child || this.exit) return false;
    this.killGroup(signal);
    return true;
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      /* already gone */
    }
  }
}
