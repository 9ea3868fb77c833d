/**
 * Head services: extra servers that live and die with the head process (the gRPC job server of daemon/jobs/ is one).
 * To add one, push a factory onto `headServices` from a module that the head's startup imports (see
 * daemon/head/main-services.ts). Each gets the head's state through `HeadServiceContext` and is stopped, in reverse
 * order, when the head stops.
 */
import type { ClusterStatus } from '../../protocol/index.js';

export interface HeadServiceContext {
  /** ws://host:port of the head. */
  readonly address: string;
  /** Host the head is bound to (services should bind to the same interface). */
  readonly bindHost: string;
  readonly token: string;
  readonly tempDir: string;
  status(): ClusterStatus;
  kvGet(key: string): Uint8Array | string | undefined;
  kvPut(key: string, value: Uint8Array | string): void;
  kvDelete(key: string): boolean;
  kvList(prefix: string): string[];
  log(message: string): void;
}

export interface RunningHeadService {
  /** What to print at start-up, e.g. "job server at 127.0.0.1:40123". */
  readonly description?: string;
  stop(): Promise<void>;
}

export interface HeadServiceFactory {
  readonly name: string;
  start(context: HeadServiceContext): Promise<RunningHeadService>;
}

export const headServices: HeadServiceFactory[] = [];

export function registerHeadService(factory: HeadServiceFactory): void {
  if (headServices.some((s) => s.name === factory.name)) return;
  headServices.push(factory);
}
