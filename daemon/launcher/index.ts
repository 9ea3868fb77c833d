/** The SSH cluster launcher's public surface (package subpath `deephyper-ts/launcher`). */
export { ClusterLauncher, type ClusterNode, type LauncherOptions, type UpResult, type DownResult } from './cluster.js';
export { loadClusterConfig, parseClusterConfig, translateRayCommand, type ClusterConfig, type TokenSource } from './config.js';
export * from './errors.js';
