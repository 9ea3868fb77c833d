/** What code running in a task or actor can learn about where it runs (Ray's get_runtime_context()). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { getRuntime } from './state.js';

export interface TaskContext {
  taskId: string;
  actorId?: string;
  nodeId: string;
  workerId: string;
  /** Fires when the task is cancelled (`cancel(ref)`); long-running code should check it. */
  signal: AbortSignal;
}

export const runtimeContextStorage = new AsyncLocalStorage<TaskContext>();

export interface RuntimeContext {
  /** Node of this process (undefined in a driver that is not on a node). */
  nodeId: string | undefined;
  /** Connection id of this process (driver or worker). */
  connId: string;
  namespace: string;
  isWorker: boolean;
  taskId?: string;
  actorId?: string;
  signal?: AbortSignal;
  isCancelled(): boolean;
}

export function getRuntimeContext(): RuntimeContext {
  const rt = getRuntime();
  const task = runtimeContextStorage.getStore();
  return {
    nodeId: task?.nodeId ?? rt?.core.nodeId,
    connId: rt?.core.connId ?? '',
    namespace: rt?.core.namespace ?? 'default',
    isWorker: rt?.isWorker ?? false,
    taskId: task?.taskId,
    actorId: task?.actorId,
    signal: task?.signal,
    isCancelled: () => task?.signal.aborted ?? false,
  };
}
