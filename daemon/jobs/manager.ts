/**
 * The job manager: Ray's job lifecycle (PENDING -> RUNNING -> SUCCEEDED | FAILED | STOPPED) for entrypoint
 * commands run on the head's node.
 *
 * An entrypoint runs in a shell in its own process group (so stop reaches every process it started), with its
 * output written straight to a log file (the head never buffers it). Entrypoint resources are reserved against
 * the head node's capacity: a job waits PENDING until the jobs already running leave room, and fails at once if
 * the node could never fit it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { InvalidJobError, JobAlreadyExistsError, JobNotFoundError, JobNotTerminalError } from './errors.js';

/** Exit code of the job runner (runner.ts) when no node can hold the entrypoint. */
export const UNSCHEDULABLE_EXIT_CODE = 86;

export type JobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export type JobErrorType = 'RUNTIME_ENV_SETUP_FAILURE' | 'JOB_ENTRYPOINT_COMMAND_START_ERROR' | 'JOB_ENTRYPOINT_COMMAND_ERROR' | 'JOB_ENTRYPOINT_UNSCHEDULABLE';

export interface JobRuntimeEnv {
  /** pkg://<sha256> of an uploaded package. */
  readonly workingDir?: string;
  readonly envVars?: Readonly<Record<string, string>>;
}

export interface SubmitJobOptions {
  readonly entrypoint: string;
  readonly submissionId?: string;
  readonly runtimeEnv?: JobRuntimeEnv;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly entrypointNumCpus?: number;
  readonly entrypointNumGpus?: number;
  readonly entrypointMemory?: number;
  readonly entrypointResources?: Readonly<Record<string, number>>;
}

export interface JobInfo {
  readonly submissionId: string;
  readonly type: 'SUBMISSION';
  readonly status: JobStatus;
  readonly entrypoint: string;
  readonly message: string;
  readonly errorType?: JobErrorType;
  /** ms since the epoch; 0 when not started / not ended. */
  readonly startTime: number;
  readonly endTime: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly runtimeEnv: JobRuntimeEnv;
  /** Exit code of the entrypoint once ended; -1 when a signal ended it. */
  readonly driverExitCode?: number;
  readonly driverPid?: number;
  readonly driverNode: string;
  /** Resources reserved for the entrypoint: CPU, GPU, memory and custom ones. */
  readonly resources: Readonly<Record<string, number>>;
}

export interface JobManagerOptions {
  /** Directory for logs (<tempDir>/logs/job-driver-<id>.log). */
  readonly tempDir: string;
  /** Address (host:port) the entrypoint's driver joins, exported as DHTS_ADDRESS. */
  readonly address: string;
  /** Cluster token, given to the entrypoint in its environment (DHTS_TOKEN), never on a command line. */
  readonly token: string;
  /** Total resources of the head's node, or undefined when it is not known yet. */
  readonly headCapacity: () => Readonly<Record<string, number>> | undefined;
  /**
   * Totals of every alive node. With it, an entrypoint that does not fit the head's node but fits another node runs
   * there through `runner` (an actor holding its resources); without it, such a job fails as unschedulable.
   */
  readonly clusterCapacities?: () => readonly Readonly<Record<string, number>>[];
  /** Path of the job runner script (runner.js), started with node in place of a remote entrypoint. */
  readonly runner?: string;
  /** Makes a package available on this node and returns its directory. */
  readonly resolveWorkingDir: (uri: string) => Promise<string>;
  readonly now?: () => number;
  readonly newId?: () => string;
  /** Between SIGTERM and SIGKILL on stop (Ray: 3 s). */
  readonly stopGraceMs?: number;
  readonly hostname?: string;
  /** Extra environment for every entrypoint (before the job's own env vars). */
  readonly env?: Readonly<Record<string, string>>;
}

interface Job {
  info: JobInfo;
  logPath: string;
  /** Runs on another node through the job runner; its resources are the cluster scheduler's business. */
  remote?: boolean;
  child?: ChildProcess;
  stopRequested: boolean;
  killTimer?: NodeJS.Timeout;
  /** Resolves when the job reaches a terminal state. */
  ended: Promise<void>;
  markEnded: () => void;
}

const ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz123456789';

/** Ids shaped like Ray's (`raysubmit_` + 16 characters without look-alikes). */
export function generateSubmissionId(random: (n: number) => number = randomInt): string {
  let id = 'dhtssubmit_';
  for (let i = 0; i < 16; i++) id += ID_ALPHABET[random(ID_ALPHABET.length)];
  return id;
}

export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly options: JobManagerOptions;
  private readonly now: () => number;
  private readonly logDir: string;
  private closed = false;

  constructor(options: JobManagerOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.logDir = join(options.tempDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  submit(request: SubmitJobOptions): string {
    if (this.closed) throw new InvalidJobError('the job manager is shutting down');
    const entrypoint = request.entrypoint?.trim() ?? '';
    if (!entrypoint) throw new InvalidJobError('entrypoint must be a non-empty shell command');
    const id = request.submissionId || (this.options.newId ?? generateSubmissionId)();
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id)) throw new InvalidJobError(`submission_id "${id}" must be 1-128 characters of [A-Za-z0-9_.-]`);
    if (this.jobs.has(id)) throw new JobAlreadyExistsError(id);
    const resources: Record<string, number> = {};
    const add = (name: string, value: number | undefined) => {
      if (value === undefined || value === 0) return;
      if (!Number.isFinite(value) || value < 0) throw new InvalidJobError(`entrypoint resource ${name} must be a non-negative number (got ${value})`);
      resources[name] = value;
    };
    add('CPU', request.entrypointNumCpus);
    add('GPU', request.entrypointNumGpus);
    add('memory', request.entrypointMemory);
    for (const [k, v] of Object.entries(request.entrypointResources ?? {})) add(k, v);
    for (const k of Object.keys(request.runtimeEnv?.envVars ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new InvalidJobError(`env var name "${k}" is not valid`);
    }
    let markEnded!: () => void;
    const ended = new Promise<void>((r) => (markEnded = r));
    const job: Job = {
      info: {
        submissionId: id,
        type: 'SUBMISSION',
        status: 'PENDING',
        entrypoint,
        message: 'Job has not started yet.',
        startTime: 0,
        endTime: 0,
        metadata: { ...(request.metadata ?? {}) },
        runtimeEnv: { ...(request.runtimeEnv ?? {}) },
        driverNode: this.options.hostname ?? osHostname(),
        resources,
      },
      logPath: join(this.logDir, `job-driver-${id}.log`),
      stopRequested: false,
      ended,
      markEnded,
    };
    this.jobs.set(id, job);
    // The log exists from submission on, so logs/tail work for a PENDING job.
    closeSync(openSync(job.logPath, 'a'));
    this.schedule();
    return id;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => j.info);
  }

  get(id: string): JobInfo {
    return this.job(id).info;
  }

  logs(id: string): string {
    const job = this.job(id);
    return existsSync(job.logPath) ? readFileSync(job.logPath, 'utf8') : '';
  }

  /** The log from the start, then what is appended, until the job has ended and everything was read. */
  async *tail(id: string, signal?: AbortSignal, pollMs = 100): AsyncGenerator<Buffer> {
    const job = this.job(id);
    let offset = 0;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const ended = TERMINAL_STATUSES.has(job.info.status);
      if (existsSync(job.logPath)) {
        const fd = openSync(job.logPath, 'r');
        try {
          for (;;) {
            const n = readSync(fd, buffer, 0, buffer.length, offset);
            if (n <= 0) break;
            offset += n;
            yield Buffer.from(buffer.subarray(0, n));
          }
        } finally {
          closeSync(fd);
        }
      }
      if (ended || signal?.aborted || !this.jobs.has(id)) return;
      await Promise.race([job.ended, new Promise((r) => setTimeout(r, pollMs))]);
    }
  }

  /** Stops a job; false when it had already ended. Resolves once it has ended. */
  async stop(id: string): Promise<boolean> {
    const job = this.job(id);
    if (TERMINAL_STATUSES.has(job.info.status)) return false;
    job.stopRequested = true;
    if (job.info.status === 'PENDING' && !job.child) {
      this.finish(job, 'STOPPED', 'Job was stopped before it started.');
      return true;
    }
    this.signal(job, 'SIGTERM');
    job.killTimer = setTimeout(() => this.signal(job, 'SIGKILL'), this.options.stopGraceMs ?? 3000);
    await job.ended;
    return true;
  }

  delete(id: string): boolean {
    const job = this.job(id);
    if (!TERMINAL_STATUSES.has(job.info.status)) throw new JobNotTerminalError(id, job.info.status);
    this.jobs.delete(id);
    rmSync(job.logPath, { force: true });
    return true;
  }

  /** Stops every job (the head is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.jobs.values()].filter((j) => !TERMINAL_STATUSES.has(j.info.status)).map((j) => this.stop(j.info.submissionId).catch(() => false)),
    );
  }

  waitEnded(id: string): Promise<void> {
    return this.job(id).ended;
  }

  private job(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  private update(job: Job, patch: Partial<JobInfo>): void {
    job.info = { ...job.info, ...patch };
  }

  private reserved(): Record<string, number> {
    const used: Record<string, number> = {};
    for (const j of this.jobs.values()) {
      if (j.info.status !== 'RUNNING' || j.remote) continue;
      for (const [k, v] of Object.entries(j.info.resources)) used[k] = (used[k] ?? 0) + v;
    }
    return used;
  }

  /** Starts PENDING jobs in submission order while the head node has room for them. */
  private schedule(): void {
    if (this.closed) return;
    for (const job of this.jobs.values()) {
      if (job.info.status !== 'PENDING' || job.child || job.stopRequested) continue;
      const needs = Object.entries(job.info.resources);
      if (needs.length > 0) {
        const capacity = this.options.headCapacity();
        if (!capacity) continue;
        const never = needs.find(([k, v]) => v > (capacity[k] ?? 0));
        if (never) {
          const elsewhere = this.options.runner && (this.options.clusterCapacities?.() ?? []).some((c) => needs.every(([k, v]) => v <= (c[k] ?? 0)));
          if (elsewhere) {
            job.remote = true;
            this.start(job);
          } else {
            this.finish(job, 'FAILED', `The entrypoint needs ${never[1]} ${never[0]} but the head's node has ${capacity[never[0]] ?? 0}, and no other node can hold it.`, 'JOB_ENTRYPOINT_UNSCHEDULABLE');
          }
          continue;
        }
        const used = this.reserved();
        if (needs.some(([k, v]) => (used[k] ?? 0) + v > (capacity[k] ?? 0))) continue;
      }
      this.start(job);
    }
  }

  private start(job: Job): void {
    const workingDir = job.info.runtimeEnv.workingDir;
    // A remote entrypoint's node unpacks the working dir itself.
    const prepared = workingDir && !job.remote ? this.options.resolveWorkingDir(workingDir) : Promise.resolve(undefined);
    // RUNNING from here on, so its resources stay reserved while the working dir is prepared.
    this.update(job, { status: 'RUNNING', startTime: this.now(), message: 'Preparing the runtime environment.' });
    prepared.then(
      (cwd) => this.launch(job, cwd),
      (error: Error) => this.finish(job, 'FAILED', `Runtime env setup failed: ${error.message}`, 'RUNTIME_ENV_SETUP_FAILURE'),
    );
  }

  private launch(job: Job, cwd: string | undefined): void {
    if (job.stopRequested) {
      this.finish(job, 'STOPPED', 'Job was stopped before its entrypoint started.');
      return;
    }
    const fd = openSync(job.logPath, 'a');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...(this.options.env ?? {}),
      ...(job.info.runtimeEnv.envVars ?? {}),
      DHTS_ADDRESS: this.options.address,
      DHTS_TOKEN: this.options.token,
      DHTS_JOB_ID: job.info.submissionId,
      DHTS_RUNTIME_ENV: JSON.stringify(job.info.runtimeEnv),
    };
    if (cwd) env.DHTS_WORKING_DIR = cwd;
    // The head's own job port: an embedded cluster started by the entrypoint must not try to take it.
    delete env.DHTS_JOBS_PORT;
    let child: ChildProcess;
    try {
      if (job.remote) {
        const { CPU: _c, ...rest } = job.info.resources;
        env.DHTS_JOB_SPEC = JSON.stringify({
          jobId: job.info.submissionId,
          entrypoint: job.info.entrypoint,
          env: { ...(this.options.env ?? {}), ...(job.info.runtimeEnv.envVars ?? {}) },
          workingDir: job.info.runtimeEnv.workingDir ?? '',
          resources: { CPU: job.info.resources.CPU ?? 0, ...rest },
        });
        child = spawn(process.execPath, [this.options.runner!], { cwd: process.cwd(), env, detached: true, stdio: ['ignore', fd, fd] });
      } else {
        child = spawn('/bin/sh', ['-c', job.info.entrypoint], { cwd: cwd ?? process.cwd(), env, detached: true, stdio: ['ignore', fd, fd] });
      }
    } catch (error) {
      closeSync(fd);
      this.finish(job, 'FAILED', `Failed to start the entrypoint: ${(error as Error).message}`, 'JOB_ENTRYPOINT_COMMAND_START_ERROR');
      return;
    }
    closeSync(fd);
    job.child = child;
    this.update(job, { driverPid: child.pid, message: 'Job is currently running.' });
    child.once('error', (error) => {
      this.finish(job, 'FAILED', `Failed to start the entrypoint: ${error.message}`, 'JOB_ENTRYPOINT_COMMAND_START_ERROR');
    });
    child.once('exit', (code, signal) => {
      // Whatever the shell left behind in its group goes too.
      this.signal(job, 'SIGKILL');
      const exitCode = code ?? -1;
      if (job.stopRequested) this.finish(job, 'STOPPED', 'Job was intentionally stopped.', undefined, exitCode);
      else if (code === 0) this.finish(job, 'SUCCEEDED', 'Job finished successfully.', undefined, 0);
      else if (job.remote && code === UNSCHEDULABLE_EXIT_CODE) {
        this.finish(job, 'FAILED', `No node can hold the entrypoint's resources:\n${this.lastLines(job, 3)}`, 'JOB_ENTRYPOINT_UNSCHEDULABLE', code);
      }
      else {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        this.finish(job, 'FAILED', `Job entrypoint command failed: it ${how}. Last lines of its log:\n${this.lastLines(job, 10)}`, 'JOB_ENTRYPOINT_COMMAND_ERROR', exitCode);
      }
    });
  }

  private signal(job: Job, signal: NodeJS.Signals): void {
    const pid = job.child?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, signal);
    } catch {
      /* the group is gone */
    }
  }

  private lastLines(job: Job, n: number): string {
    try {
      const size = statSync(job.logPath).size;
      const fd = openSync(job.logPath, 'r');
      const length = Math.min(size, 20_000);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      closeSync(fd);
      return buf.toString('utf8').trimEnd().split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }

  private finish(job: Job, status: JobStatus, message: string, errorType?: JobErrorType, exitCode?: number): void {
    if (TERMINAL_STATUSES.has(job.info.status)) return;
    if (job.killTimer) clearTimeout(job.killTimer);
    this.update(job, { status, message, errorType, endTime: this.now(), driverExitCode: exitCode });
    job.markEnded();
    queueMicrotask(() => this.schedule());
  }
}
