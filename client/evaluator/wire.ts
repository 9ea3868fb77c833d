// Messages between a host evaluator and its worker threads or child processes.
import type { JobSpec, RunOutput } from './types.js';
import type { RunOutcome } from './pool.js';

export type HostMessage =
  | { type: 'run'; spec: JobSpec; specifier: string; exportName: string; runKwargs: unknown; token: number }
  | { type: 'decision'; seq: number; stop: boolean }
  | { type: 'stop' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'record'; seq: number; step: number; objective: number }
  | { type: 'child'; pid: number }
  | { type: 'done'; outcome: RunOutcome };

export type { RunOutput };
