/** Typed errors of the job API, each with a stable `code` (mapped to gRPC status codes by the server and back by the client). */

import { DhtsError } from '../../protocol/errors.js';

export type JobErrorCode =
  | 'JOB_NOT_FOUND'
  | 'JOB_ALREADY_EXISTS'
  | 'JOB_NOT_TERMINAL'
  | 'JOB_INVALID'
  | 'PACKAGE'
  | 'UNAUTHENTICATED'
  | 'JOB_API_UNAVAILABLE';

export class JobError extends DhtsError<JobErrorCode> {}

export class JobNotFoundError extends JobError {
  constructor(id: string) {
    super('JOB_NOT_FOUND', `Job ${id} does not exist`);
  }
}

export class JobAlreadyExistsError extends JobError {
  constructor(id: string) {
    super('JOB_ALREADY_EXISTS', `Job with submission_id ${id} already exists`);
  }
}

export class JobNotTerminalError extends JobError {
  constructor(id: string, status: string) {
    super('JOB_NOT_TERMINAL', `Job ${id} is ${status}; stop it before deleting it`);
  }
}

export class InvalidJobError extends JobError {
  constructor(message: string) {
    super('JOB_INVALID', message);
  }
}

export class PackageError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PACKAGE', message, options);
  }
}

/** The cluster token was missing or wrong. */
export class JobAuthenticationError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** The job API could not be reached (head down, wrong address, port blocked). */
export class JobApiUnavailableError extends JobError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOB_API_UNAVAILABLE', message, options);
  }
}
