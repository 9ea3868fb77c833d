/**
 * Typed errors of the cluster runtime. Every class has a stable `code`, and a wire form (`toWire` / `fromWire`)
 * so that an error raised in a worker or in the head reaches the caller with the same class.
 */

export type ErrorCode =
  | 'PROTOCOL'
  | 'AUTHENTICATION'
  | 'VERSION_MISMATCH'
  | 'FRAME_TOO_LARGE'
  | 'CONNECTION_CLOSED'
  | 'TASK_ERROR'
  | 'WORKER_CRASHED'
  | 'NODE_DIED'
  | 'ACTOR_DIED'
  | 'ACTOR_UNAVAILABLE'
  | 'ACTOR_NOT_FOUND'
  | 'ACTOR_ALREADY_EXISTS'
  | 'OBJECT_LOST'
  | 'GET_TIMEOUT'
  | 'TASK_CANCELLED'
  | 'UNSCHEDULABLE'
  | 'PENDING_CALLS_LIMIT'
  | 'NOT_INITIALIZED'
  | 'INVALID_ARGUMENT'
  | 'CONFIG';

/** The form of an error on the wire (msgpack-friendly, no class). */
export interface WireError {
  code: ErrorCode;
  name: string;
  message: string;
  stack?: string;
  /** For TaskError: the class name, message and stack of the error thrown by user code. */
  remoteName?: string;
  remoteMessage?: string;
  remoteStack?: string;
  /** For TaskError: own enumerable data fields of the user error that survived serialization. */
  remoteData?: Record<string, unknown>;
}

/**
 * Base of every error the package throws (runtime, search, evaluators, jobs, launcher): a stable `code` for programs,
 * a message for people, the class name as `name`, and an optional `cause`.
 */
export class DhtsError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class RuntimeError extends DhtsError<ErrorCode> {
  toWire(): WireError {
    return { code: this.code, name: this.name, message: this.message, stack: this.stack };
  }
}

/** A message broke the protocol: malformed, unknown type, out of order. */
export class ProtocolError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PROTOCOL', message, options);
  }
}
export class AuthenticationError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AUTHENTICATION', message, options);
  }
}
export class VersionMismatchError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VERSION_MISMATCH', message, options);
  }
}
export class FrameTooLargeError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FRAME_TOO_LARGE', message, options);
  }
}
export class ConnectionClosedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONNECTION_CLOSED', message, options);
  }
}

/** User code in a task or actor method threw. `cause` is a rebuilt Error with the remote name, message and stack. */
export class TaskError extends RuntimeError {
  readonly remoteName: string;
  readonly remoteStack: string | undefined;
  readonly remoteData: Record<string, unknown> | undefined;
  constructor(message: string, remote: { name: string; message: string; stack?: string; data?: Record<string, unknown> }) {
    const cause = new Error(remote.message);
    cause.name = remote.name;
    if (remote.stack !== undefined) cause.stack = remote.stack;
    if (remote.data) Object.assign(cause, remote.data);
    super('TASK_ERROR', message, { cause });
    this.remoteName = remote.name;
    this.remoteStack = remote.stack;
    this.remoteData = remote.data;
  }
  /** Wraps an error thrown by user code in a worker. */
  static fromUserError(where: string, error: unknown): TaskError {
    if (error instanceof TaskError) return error;
    const e = error instanceof Error ? error : new Error(String(error));
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) {
      if (k === 'stack' || k === 'message' || k === 'cause') continue;
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) data[k] = v;
    }
    return new TaskError(`${where} failed: ${e.name}: ${e.message}`, {
      name: e.name,
      message: e.message,
      stack: e.stack,
      data: Object.keys(data).length ? data : undefined,
    });
  }
  override toWire(): WireError {
    const cause = this.cause as Error;
    return {
      ...super.toWire(),
      remoteName: this.remoteName,
      remoteMessage: cause.message,
      remoteStack: this.remoteStack,
      remoteData: this.remoteData,
    };
  }
}

/** The worker process running the task died (kill -9, crash, OOM) and retries ran out. */
export class WorkerCrashedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WORKER_CRASHED', message, options);
  }
}
/** The node running the task or holding the actor died and retries ran out. */
export class NodeDiedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NODE_DIED', message, options);
  }
}
/** The actor is dead for good (restarts exhausted, killed, creation failed, owner gone). */
export class ActorDiedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_DIED', message, options);
  }
}
/** The actor is restarting: a call in flight was lost and may not be retried. */
export class ActorUnavailableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_UNAVAILABLE', message, options);
  }
}
export class ActorNotFoundError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_NOT_FOUND', message, options);
  }
}
export class ActorAlreadyExistsError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ACTOR_ALREADY_EXISTS', message, options);
  }
}
/** The value behind an ObjectRef is gone and cannot be rebuilt. */
export class ObjectLostError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OBJECT_LOST', message, options);
  }
}
export class GetTimeoutError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GET_TIMEOUT', message, options);
  }
}
export class TaskCancelledError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TASK_CANCELLED', message, options);
  }
}
/** Hard node affinity to a node that is dead or can never fit the demand. */
export class UnschedulableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNSCHEDULABLE', message, options);
  }
}
export class PendingCallsLimitError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PENDING_CALLS_LIMIT', message, options);
  }
}
export class NotInitializedError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_INITIALIZED', message, options);
  }
}
export class InvalidArgumentError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}
/** A bad flag, config value or environment; the message names the field. */
export class ConfigError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

type Ctor = new (message: string, options?: { cause?: unknown }) => RuntimeError;
const byCode: Partial<Record<ErrorCode, Ctor>> = {
  PROTOCOL: ProtocolError,
  AUTHENTICATION: AuthenticationError,
  VERSION_MISMATCH: VersionMismatchError,
  FRAME_TOO_LARGE: FrameTooLargeError,
  CONNECTION_CLOSED: ConnectionClosedError,
  WORKER_CRASHED: WorkerCrashedError,
  NODE_DIED: NodeDiedError,
  ACTOR_DIED: ActorDiedError,
  ACTOR_UNAVAILABLE: ActorUnavailableError,
  ACTOR_NOT_FOUND: ActorNotFoundError,
  ACTOR_ALREADY_EXISTS: ActorAlreadyExistsError,
  OBJECT_LOST: ObjectLostError,
  GET_TIMEOUT: GetTimeoutError,
  TASK_CANCELLED: TaskCancelledError,
  UNSCHEDULABLE: UnschedulableError,
  PENDING_CALLS_LIMIT: PendingCallsLimitError,
  NOT_INITIALIZED: NotInitializedError,
  INVALID_ARGUMENT: InvalidArgumentError,
  CONFIG: ConfigError,
};

/** Any error to its wire form; unknown errors become TASK_ERROR-free RuntimeErrors of code PROTOCOL only when asked. */
export function toWireError(error: unknown): WireError {
  if (error instanceof RuntimeError) return error.toWire();
  return TaskError.fromUserError('remote call', error).toWire();
}

/** Rebuilds the typed error class from its wire form. */
export function fromWireError(wire: WireError): RuntimeError {
  let error: RuntimeError;
  if (wire.code === 'TASK_ERROR') {
    error = new TaskError(wire.message, {
      name: wire.remoteName ?? 'Error',
      message: wire.remoteMessage ?? wire.message,
      stack: wire.remoteStack,
      data: wire.remoteData,
    });
  } else {
    const Cls = byCode[wire.code] ?? ProtocolError;
    error = new Cls(wire.message);
  }
  // Keep the local stack (where the caller awaited) and append the remote one for context.
  if (wire.stack && wire.code !== 'TASK_ERROR') error.stack = `${error.stack}\n    --- remote ---\n${wire.stack}`;
  return error;
}
