/** Typed errors of the SSH cluster launcher, each with a stable `code`. */

import { DhtsError } from '../../protocol/errors.js';

export type LauncherErrorCode =
  | 'CLUSTER_CONFIG'
  | 'SSH_UNREACHABLE'
  | 'SSH_COMMAND_FAILED'
  | 'HOSTS_FAILED'
  | 'CLUSTER_NOT_READY';

export class LauncherError extends DhtsError<LauncherErrorCode> {}

/** A cluster config is invalid; the message names the file, the line and the field. */
export class ClusterConfigError extends LauncherError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly field: string;
  constructor(file: string, field: string, problem: string, pos?: { line: number; col: number }, options?: { cause?: unknown }) {
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    super('CLUSTER_CONFIG', `${where}: ${field ? `field "${field}": ` : ''}${problem}`, options);
    this.file = file;
    this.line = pos?.line;
    this.column = pos?.col;
    this.field = field;
  }
}

/** SSH could not reach a host (refused, timed out, authentication failed) after every retry. */
export class SshUnreachableError extends LauncherError {
  readonly host: string;
  constructor(host: string, detail: string, options?: { cause?: unknown }) {
    super('SSH_UNREACHABLE', `cannot reach ${host} over ssh: ${detail}`, options);
    this.host = host;
  }
}

/** A command ran on a host and exited non-zero. */
export class SshCommandError extends LauncherError {
  readonly host: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(host: string, what: string, exitCode: number | undefined, stderr: string, options?: { cause?: unknown }) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super('SSH_COMMAND_FAILED', `${host}: ${what} failed (exit ${exitCode ?? 'signal'})${tail ? `:\n${tail}` : ''}`, options);
    this.host = host;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** One or more hosts failed during a cluster-wide step; every host's error is kept. */
export class HostsFailedError extends LauncherError {
  readonly failures: ReadonlyMap<string, Error>;
  constructor(step: string, failures: ReadonlyMap<string, Error>) {
    const lines = [...failures].map(([host, e]) => `  ${host}: ${e.message.split('\n').join('\n    ')}`);
    super('HOSTS_FAILED', `${step} failed on ${failures.size} host(s):\n${lines.join('\n')}`);
    this.failures = failures;
  }
}
