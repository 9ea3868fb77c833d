/** The process-wide runtime: one core connection per process (driver or worker), as with `ray.init`. */
import { NotInitializedError } from '../../protocol/index.js';
import type { CoreClient } from './core.js';

interface RuntimeState {
  core: CoreClient;
  /** Stops what init() started (an embedded cluster), if anything. */
  stopCluster?: () => Promise<void>;
  isWorker: boolean;
}

let state: RuntimeState | undefined;

export function setRuntime(s: RuntimeState | undefined): void {
  state = s;
}
export function getRuntime(): RuntimeState | undefined {
  return state;
}
export function getCore(): CoreClient {
  if (!state) throw new NotInitializedError('the runtime is not initialized: call `await init()` first');
  return state.core;
}
