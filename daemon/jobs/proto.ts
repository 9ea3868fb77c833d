/**
 * Loads protocol/jobs.proto and protocol/health.proto at run time (@grpc/proto-loader) and gives the messages
 * their TypeScript shapes (fields in camelCase, enums as strings, 64-bit integers as numbers).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { JobStatus } from './manager.js';

/** dist/daemon/jobs/ and daemon/jobs/ are both three levels below the package root. */
const PROTO_DIR = fileURLToPath(new URL('../../../protocol/', import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export interface WireRuntimeEnv {
  workingDir: string;
  envVars: Record<string, string>;
}

export interface WireSubmitJobRequest {
  entrypoint: string;
  submissionId: string;
  runtimeEnv: WireRuntimeEnv | null;
  metadata: Record<string, string>;
  entrypointNumCpus: number;
  entrypointNumGpus: number;
  entrypointMemory: number;
  entrypointResources: Record<string, number>;
}

export interface WireJobInfo {
  submissionId: string;
  type: string;
  status: JobStatus | 'JOB_STATUS_UNSPECIFIED';
  entrypoint: string;
  message: string;
  errorType: string;
  startTime: number;
  endTime: number;
  metadata: Record<string, string>;
  runtimeEnv: WireRuntimeEnv | null;
  driverExitCode: number;
  driverPid: number;
  driverNode: string;
  entrypointNumCpus: number;
  entrypointNumGpus: number;
  entrypointMemory: number;
  entrypointResources: Record<string, number>;
}

export interface WireNodeInfo {
  nodeId: string;
  alive: boolean;
  hostname: string;
  address: string;
  isHead: boolean;
  total: Record<string, number>;
  available: Record<string, number>;
  labels: Record<string, string>;
  deathReason: string;
  workers: number;
}

export interface WireClusterStatus {
  headAddress: string;
  nodes: WireNodeInfo[];
  tasksPending: number;
  tasksRunning: number;
  tasksFinished: number;
  actorsAlive: number;
  recentFailures: string[];
  text: string;
}

export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface LoadedProtos {
  readonly jobService: grpc.ServiceClientConstructor;
  readonly healthService: grpc.ServiceClientConstructor;
}

let loaded: LoadedProtos | undefined;

export function loadProtos(): LoadedProtos {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(['jobs.proto', 'health.proto'], LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    dhts: { jobs: { v1: { JobService: grpc.ServiceClientConstructor } } };
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  loaded = { jobService: root.dhts.jobs.v1.JobService, healthService: root.grpc.health.v1.Health };
  return loaded;
}

export const JOB_SERVICE_NAME = 'dhts.jobs.v1.JobService';
