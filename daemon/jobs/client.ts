/**
 * A typed client of the head's job API (protocol/jobs.proto), used by `dhts job …`, the launcher and tests.
 * Errors come back as the job error classes (JobNotFoundError, JobAuthenticationError, …).
 */
import * as grpc from '@grpc/grpc-js';
import {
  InvalidJobError,
  JobAlreadyExistsError,
  JobApiUnavailableError,
  JobAuthenticationError,
  JobError,
  JobNotFoundError,
  JobNotTerminalError,
  PackageError,
} from './errors.js';
import type { JobStatus } from './manager.js';
import { packDirectory } from './packages.js';
import { loadProtos, type HealthStatus, type WireClusterStatus, type WireJobInfo, type WireNodeInfo } from './proto.js';

export interface JobClientOptions {
  /** host:port of the job API. */
  readonly address: string;
  readonly token?: string;
  /** Deadline of each unary call (ms). */
  readonly timeoutMs?: number;
}

export interface SubmitOptions {
  readonly entrypoint: string;
  readonly submissionId?: string;
  /** A local directory: packed (honouring excludes and .gitignore) and uploaded unless the head has it. */
  readonly workingDir?: string;
  readonly excludes?: readonly string[];
  readonly envVars?: Readonly<Record<string, string>>;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly entrypointNumCpus?: number;
  readonly entrypointNumGpus?: number;
  readonly entrypointMemory?: number;
  readonly entrypointResources?: Readonly<Record<string, number>>;
}

export const TERMINAL: ReadonlySet<string> = new Set<JobStatus>(['STOPPED', 'SUCCEEDED', 'FAILED']);
const UPLOAD_CHUNK = 1 << 20;

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;
type UnaryMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<unknown>) => grpc.ClientUnaryCall;

export class JobClient {
  readonly address: string;
  private readonly client: grpc.Client;
  private readonly health: grpc.Client;
  private readonly metadata: grpc.Metadata;
  private readonly timeoutMs: number;

  constructor(options: JobClientOptions) {
    const { jobService, healthService } = loadProtos();
    this.address = options.address;
    const channelOptions = { 'grpc.max_receive_message_length': 64 << 20 };
    this.client = new jobService(options.address, grpc.credentials.createInsecure(), channelOptions);
    this.health = new healthService(options.address, grpc.credentials.createInsecure(), channelOptions);
    this.metadata = new grpc.Metadata();
    if (options.token) this.metadata.set('authorization', `Bearer ${options.token}`);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  close(): void {
    this.client.close();
    this.health.close();
  }

  private call<T>(method: string, request: unknown, client: grpc.Client = this.client): Promise<T> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method]!;
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, this.metadata, { deadline: Date.now() + this.timeoutMs }, (error, value) => {
        if (error) reject(this.translate(error));
        else resolve(value as T);
      });
    });
  }

  private translate(error: grpc.ServiceError): Error {
    const code = error.metadata?.get('dhts-error-code')[0];
    const details = error.details || error.message;
    switch (error.code) {
      case grpc.status.UNAUTHENTICATED:
        return new JobAuthenticationError(`job API at ${this.address}: ${details}`, { cause: error });
      case grpc.status.UNAVAILABLE:
      case grpc.status.DEADLINE_EXCEEDED:
        return new JobApiUnavailableError(`cannot reach the job API at ${this.address} (is the head running, and is this its job port?): ${details}`, { cause: error });
      case grpc.status.NOT_FOUND:
        return Object.assign(new JobNotFoundError(details.replace(/^Job (.*) does not exist$/, '$1')), { message: details });
      case grpc.status.ALREADY_EXISTS:
        return Object.assign(new JobAlreadyExistsError(''), { message: details });
      case grpc.status.FAILED_PRECONDITION:
        return Object.assign(new JobNotTerminalError('', ''), { message: details });
      case grpc.status.INVALID_ARGUMENT:
        return code === 'PACKAGE' ? new PackageError(details, { cause: error }) : new InvalidJobError(details);
      default:
        return new JobError('JOB_API_UNAVAILABLE', `job API at ${this.address}: ${details}`, { cause: error });
    }
  }

  /** Uploads a packed directory unless the head has it; returns its pkg:// URI. */
  async uploadWorkingDir(dir: string, excludes: readonly string[] = []): Promise<string> {
    const packed = await packDirectory(dir, { excludes });
    const { present } = await this.call<{ present: boolean }>('HasPackage', { sha256: packed.sha256 });
    if (present) return packed.uri;
    await new Promise<void>((resolve, reject) => {
      const stream = (this.client as unknown as Record<string, (m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<unknown>) => grpc.ClientWritableStream<unknown>>)
        .UploadPackage!.call(this.client, this.metadata, { deadline: Date.now() + Math.max(this.timeoutMs, 120_000) }, (error) =>
          error ? reject(this.translate(error)) : resolve(),
        );
      for (let offset = 0; offset < packed.bytes.length || offset === 0; offset += UPLOAD_CHUNK) {
        stream.write({ sha256: offset === 0 ? packed.sha256 : '', data: packed.bytes.subarray(offset, offset + UPLOAD_CHUNK) });
        if (packed.bytes.length === 0) break;
      }
      stream.end();
    });
    return packed.uri;
  }

  async submitJob(options: SubmitOptions): Promise<string> {
    const workingDir = options.workingDir ? await this.uploadWorkingDir(options.workingDir, options.excludes) : '';
    const reply = await this.call<{ submissionId: string }>('SubmitJob', {
      entrypoint: options.entrypoint,
      submissionId: options.submissionId ?? '',
      runtimeEnv: { workingDir, envVars: { ...(options.envVars ?? {}) } },
      metadata: { ...(options.metadata ?? {}) },
      entrypointNumCpus: options.entrypointNumCpus ?? 0,
      entrypointNumGpus: options.entrypointNumGpus ?? 0,
      entrypointMemory: options.entrypointMemory ?? 0,
      entrypointResources: { ...(options.entrypointResources ?? {}) },
    });
    return reply.submissionId;
  }

  async listJobs(): Promise<WireJobInfo[]> {
    return (await this.call<{ jobs: WireJobInfo[] }>('ListJobs', {})).jobs;
  }

  getJob(id: string): Promise<WireJobInfo> {
    return this.call<WireJobInfo>('GetJob', { submissionId: id });
  }

  async getJobLogs(id: string): Promise<string> {
    return (await this.call<{ logs: string }>('GetJobLogs', { submissionId: id })).logs;
  }

  async stopJob(id: string): Promise<boolean> {
    return (await this.call<{ stopped: boolean }>('StopJob', { submissionId: id })).stopped;
  }

  async deleteJob(id: string): Promise<boolean> {
    return (await this.call<{ deleted: boolean }>('DeleteJob', { submissionId: id })).deleted;
  }

  /** The job's log from the start, then as it is written, until the job ends. */
  async *tailJobLogs(id: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const stream = (this.client as unknown as Record<string, (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<{ data: Buffer }>>)
      .TailJobLogs!.call(this.client, { submissionId: id }, this.metadata);
    const onAbort = () => stream.cancel();
    signal?.addEventListener('abort', onAbort);
    try {
      for await (const chunk of stream as AsyncIterable<{ data: Buffer }>) yield chunk.data;
    } catch (error) {
      if ((error as grpc.ServiceError).code === grpc.status.CANCELLED && signal?.aborted) return;
      throw this.translate(error as grpc.ServiceError);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Polls until the job is STOPPED, SUCCEEDED or FAILED, and returns its final info. */
  async waitUntilEnded(id: string, options: { pollMs?: number; timeoutMs?: number } = {}): Promise<WireJobInfo> {
    const deadline = Date.now() + (options.timeoutMs ?? Infinity);
    for (;;) {
      const info = await this.getJob(id);
      if (TERMINAL.has(info.status)) return info;
      if (Date.now() > deadline) throw new JobError('JOB_API_UNAVAILABLE', `job ${id} still ${info.status} after ${options.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
    }
  }

  async listNodes(): Promise<WireNodeInfo[]> {
    return (await this.call<{ nodes: WireNodeInfo[] }>('ListNodes', {})).nodes;
  }

  clusterStatus(): Promise<WireClusterStatus> {
    return this.call<WireClusterStatus>('GetClusterStatus', {});
  }

  /** grpc.health.v1 Check (no token needed). */
  async checkHealth(service = ''): Promise<HealthStatus> {
    return (await this.call<{ status: HealthStatus }>('Check', { service }, this.health)).status;
  }
}
