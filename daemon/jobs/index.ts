/** The job API's public surface (package subpath `deephyper-ts/jobs`). */
export { JobClient, TERMINAL, type JobClientOptions, type SubmitOptions } from './client.js';
export * from './errors.js';
export type { JobStatus, JobInfo, JobRuntimeEnv } from './manager.js';
export type { WireJobInfo, WireNodeInfo, WireClusterStatus, HealthStatus } from './proto.js';
export { packDirectory, DEFAULT_EXCLUDES, MAX_PACKAGE_BYTES, type PackedDirectory } from './packages.js';
