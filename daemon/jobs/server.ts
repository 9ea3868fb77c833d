/**
 * The head's gRPC server: the job API (protocol/jobs.proto), authenticated with the cluster token, and the
 * standard grpc.health.v1 service (open, so load balancers and `grpc_health_probe` can use it).
 */
import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ClusterStatus, NodeInfo } from '../../protocol/index.js';
import { JobError, PackageError } from './errors.js';
import type { JobInfo, JobManager } from './manager.js';
import { MAX_PACKAGE_BYTES, sha256Hex } from './packages.js';
import { JOB_SERVICE_NAME, loadProtos, type HealthStatus, type WireClusterStatus, type WireJobInfo, type WireNodeInfo, type WireSubmitJobRequest } from './proto.js';

export interface JobServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly token: string;
  readonly manager: JobManager;
  readonly status: () => ClusterStatus;
  /** Is a package with this hash already stored? */
  readonly hasPackage: (sha256: string) => boolean;
  /** Stores a verified package. */
  readonly storePackage: (sha256: string, bytes: Buffer) => void;
  readonly maxPackageBytes?: number;
}

export interface RunningJobServer {
  readonly port: number;
  /** host:port to give to clients. */
  readonly address: string;
  setServing(serving: boolean): void;
  stop(): Promise<void>;
}

const STATUS_BY_CODE: Record<string, grpc.status> = {
  JOB_NOT_FOUND: grpc.status.NOT_FOUND,
  JOB_ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  JOB_NOT_TERMINAL: grpc.status.FAILED_PRECONDITION,
  JOB_INVALID: grpc.status.INVALID_ARGUMENT,
  PACKAGE: grpc.status.INVALID_ARGUMENT,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
};

function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  if (error instanceof JobError) {
    const metadata = new grpc.Metadata();
    metadata.set('dhts-error-code', error.code);
    return { code: STATUS_BY_CODE[error.code] ?? grpc.status.INTERNAL, details: error.message, metadata };
  }
  return { code: grpc.status.INTERNAL, details: (error as Error)?.message ?? String(error) };
}

export function jobInfoToWire(info: JobInfo): WireJobInfo {
  const { CPU, GPU, memory, ...custom } = info.resources;
  return {
    submissionId: info.submissionId,
    type: info.type,
    status: info.status,
    entrypoint: info.entrypoint,
    message: info.message,
    errorType: info.errorType ?? '',
    startTime: info.startTime,
    endTime: info.endTime,
    metadata: { ...info.metadata },
    runtimeEnv: { workingDir: info.runtimeEnv.workingDir ?? '', envVars: { ...(info.runtimeEnv.envVars ?? {}) } },
    driverExitCode: info.driverExitCode ?? 0,
    driverPid: info.driverPid ?? 0,
    driverNode: info.driverNode,
    entrypointNumCpus: CPU ?? 0,
    entrypointNumGpus: GPU ?? 0,
    entrypointMemory: memory ?? 0,
    entrypointResources: custom,
  };
}

/** Agents connect from "::ffff:10.0.0.2"-style addresses; report the plain IPv4 form. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function nodeToWire(n: NodeInfo): WireNodeInfo {
  return {
    nodeId: n.nodeId,
    alive: n.alive,
    hostname: n.hostname,
    address: plainAddress(n.address),
    isHead: n.isHead,
    total: { ...n.total },
    available: { ...n.available },
    labels: { ...n.labels },
    deathReason: n.deathReason ?? '',
    workers: n.workers,
  };
}

/** A short text status in the layout of `ray status`. */
export function formatClusterStatus(s: ClusterStatus): string {
  const alive = s.nodes.filter((n) => n.alive);
  const dead = s.nodes.filter((n) => !n.alive);
  const total: Record<string, number> = {};
  const available: Record<string, number> = {};
  for (const n of alive) {
    for (const [k, v] of Object.entries(n.total)) total[k] = (total[k] ?? 0) + v;
    for (const [k, v] of Object.entries(n.available)) available[k] = (available[k] ?? 0) + v;
  }
  const lines = ['Node status', '-'.repeat(60), 'Active:'];
  lines.push(...(alive.length ? alive.map((n) => ` 1 ${n.isHead ? 'head' : 'node'}_${n.nodeId} (${plainAddress(n.address) || n.hostname})`) : [' (no active nodes)']));
  lines.push('Recent failures:');
  const failures = s.recentFailures.map((f) => ` ${f.hostname}: NodeTerminated (node ${f.nodeId}): ${f.reason}`);
  lines.push(...(failures.length ? failures : dead.length ? dead.map((n) => ` ${n.hostname}: NodeTerminated (node ${n.nodeId})`) : [' (no failures)']));
  lines.push('', 'Resources', '-'.repeat(60), 'Total Usage:');
  for (const k of Object.keys(total).sort()) {
    if (k.startsWith('node:')) continue;
    const used = total[k]! - (available[k] ?? 0);
    lines.push(k === 'memory' ? ` ${gib(used)}/${gib(total[k]!)} memory` : ` ${used.toFixed(1)}/${total[k]!.toFixed(1)} ${k}`);
  }
  lines.push('Pending Demands:');
  const demands = s.pendingDemands.map((d) => ` ${JSON.stringify(d.resources)}: ${d.count}+ pending tasks/actors${d.infeasible ? ' (infeasible)' : ''}`);
  lines.push(...(demands.length ? demands : [' (no resource demands)']));
  return lines.join('\n');
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)}GiB`;
}

function authorized(metadata: grpc.Metadata, token: string): boolean {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string' || !value.startsWith('Bearer ')) return false;
  const given = Buffer.from(value.slice(7));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const UNAUTHENTICATED: Partial<grpc.ServiceError> = {
  code: grpc.status.UNAUTHENTICATED,
  details: 'missing or wrong cluster token: send "authorization: Bearer <token>" (dhts job … --token-file FILE, or DHTS_TOKEN)',
};

export async function startJobServer(options: JobServerOptions): Promise<RunningJobServer> {
  const { jobService, healthService } = loadProtos();
  const { manager, token } = options;
  const maxBytes = options.maxPackageBytes ?? MAX_PACKAGE_BYTES;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 << 20 });

  type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;
  const unary = <Req, Res>(body: (request: Req) => Res | Promise<Res>): Unary<Req, Res> => (call, callback) => {
    if (!authorized(call.metadata, token)) return callback(UNAUTHENTICATED);
    Promise.resolve()
      .then(() => body(call.request))
      .then((res) => callback(null, res), (error) => callback(toServiceError(error)));
  };

  server.addService(jobService.service, {
    SubmitJob: unary<WireSubmitJobRequest, { submissionId: string }>((r) => {
      const env = r.runtimeEnv;
      const submissionId = manager.submit({
        entrypoint: r.entrypoint,
        submissionId: r.submissionId || undefined,
        runtimeEnv: { workingDir: env?.workingDir || undefined, envVars: env?.envVars ?? {} },
        metadata: r.metadata,
        entrypointNumCpus: r.entrypointNumCpus,
        entrypointNumGpus: r.entrypointNumGpus,
        entrypointMemory: r.entrypointMemory,
        entrypointResources: r.entrypointResources,
      });
      return { submissionId };
    }),
    ListJobs: unary<object, { jobs: WireJobInfo[] }>(() => ({ jobs: manager.list().map(jobInfoToWire) })),
    GetJob: unary<{ submissionId: string }, WireJobInfo>((r) => jobInfoToWire(manager.get(r.submissionId))),
    GetJobLogs: unary<{ submissionId: string }, { logs: string }>((r) => ({ logs: manager.logs(r.submissionId) })),
    StopJob: unary<{ submissionId: string }, { stopped: boolean }>(async (r) => ({ stopped: await manager.stop(r.submissionId) })),
    DeleteJob: unary<{ submissionId: string }, { deleted: boolean }>((r) => ({ deleted: manager.delete(r.submissionId) })),
    HasPackage: unary<{ sha256: string }, { present: boolean }>((r) => ({ present: /^[0-9a-f]{64}$/.test(r.sha256) && options.hasPackage(r.sha256) })),
    ListNodes: unary<object, { nodes: WireNodeInfo[] }>(() => ({ nodes: options.status().nodes.map(nodeToWire) })),
    GetClusterStatus: unary<object, WireClusterStatus>(() => {
      const s = options.status();
      return {
        headAddress: s.headAddress,
        nodes: s.nodes.map(nodeToWire),
        tasksPending: s.tasks.pending,
        tasksRunning: s.tasks.running,
        tasksFinished: s.tasks.finished,
        actorsAlive: s.actors.filter((a) => a.state === 'ALIVE').length,
        recentFailures: s.recentFailures.map((f) => `${f.hostname} (${f.nodeId}): ${f.reason}`),
        text: formatClusterStatus(s),
      };
    }),
    TailJobLogs: (call: grpc.ServerWritableStream<{ submissionId: string }, { data: Buffer }>) => {
      if (!authorized(call.metadata, token)) {
        call.emit('error', UNAUTHENTICATED);
        return;
      }
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      (async () => {
        for await (const chunk of manager.tail(call.request.submissionId, abort.signal)) {
          if (abort.signal.aborted) return;
          if (!call.write({ data: chunk })) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      })().catch((error) => call.emit('error', toServiceError(error)));
    },
    UploadPackage: (call: grpc.ServerReadableStream<{ sha256: string; data: Buffer }, { sha256: string; size: number }>, callback: grpc.sendUnaryData<{ sha256: string; size: number }>) => {
      if (!authorized(call.metadata, token)) {
        call.destroy();
        callback(UNAUTHENTICATED);
        return;
      }
      let expected = '';
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      call.on('data', (chunk: { sha256: string; data: Buffer }) => {
        if (failed) return;
        if (!expected) expected = chunk.sha256;
        size += chunk.data.length;
        if (size > maxBytes) {
          failed = true;
          callback(toServiceError(new PackageError(`package larger than ${maxBytes} bytes`)));
          return;
        }
        chunks.push(chunk.data);
      });
      call.on('end', () => {
        if (failed) return;
        try {
          if (!/^[0-9a-f]{64}$/.test(expected)) throw new PackageError('the first chunk must carry the sha256 (64 hex chars) of the package');
          const bytes = Buffer.concat(chunks);
          const actual = sha256Hex(bytes);
          if (actual !== expected) throw new PackageError(`package hash mismatch: announced ${expected}, received ${actual}`);
          options.storePackage(expected, bytes);
          callback(null, { sha256: expected, size: bytes.length });
        } catch (error) {
          callback(toServiceError(error));
        }
      });
      call.on('error', () => {
        failed = true;
      });
    },
  });

  // grpc.health.v1: "" is the server as a whole.
  const health = new Map<string, HealthStatus>([['', 'SERVING'], [JOB_SERVICE_NAME, 'SERVING']]);
  const watchers = new Set<{ service: string; call: grpc.ServerWritableStream<{ service: string }, { status: HealthStatus }> }>();
  server.addService(healthService.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: HealthStatus }>, callback: grpc.sendUnaryData<{ status: HealthStatus }>) => {
      const status = health.get(call.request.service);
      if (!status) return callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
      callback(null, { status });
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, { status: HealthStatus }>) => {
      const watcher = { service: call.request.service, call };
      watchers.add(watcher);
      call.write({ status: health.get(call.request.service) ?? 'SERVICE_UNKNOWN' });
      call.on('cancelled', () => watchers.delete(watcher));
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    port,
    address: `${options.host}:${port}`,
    setServing(serving) {
      const status: HealthStatus = serving ? 'SERVING' : 'NOT_SERVING';
      for (const key of health.keys()) health.set(key, status);
      for (const w of watchers) w.call.write({ status: health.get(w.service) ?? 'SERVICE_UNKNOWN' });
    },
    async stop() {
      for (const w of watchers) w.call.end();
      watchers.clear();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
