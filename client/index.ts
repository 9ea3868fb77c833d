/**
 * deephyper-ts client SDK: a Ray-shaped API over the dhts cluster.
 *
 *   import { init, remote, get, shutdown } from 'deephyper-ts';
 *   await init();                                       // embedded local cluster, or { address: 'auto' }
 *   const square = remote(new URL('./tasks.js', import.meta.url), 'square');
 *   console.log(await get(square.remote(4)));           // 16
 *   await shutdown();
 */
export { init, shutdown, isInitialized, get, wait, put, cancel, kill, getActor, nodes, clusterResources, availableResources, clusterStatus, kvPut, kvGet, kvDelete, kvList } from './runtime/api.js';
export type { InitOptions, InitInfo, GetOptions, WaitOptions, RayNode } from './runtime/api.js';
export { remote, isActorHandle } from './runtime/remote.js';
export type { RemoteFunction, ActorClass, ActorHandle, ActorMethod, Remote, RemoteArgs } from './runtime/remote.js';
export { ObjectRef } from './runtime/object-ref.js';
export { ActorPool, PoolTimeoutError } from './runtime/actor-pool.js';
export type { PoolFn } from './runtime/actor-pool.js';
export { NodeAffinitySchedulingStrategy, TASK_DEFAULTS, ACTOR_DEFAULTS } from './runtime/options.js';
export type { TaskOptionsInput, ActorOptionsInput, SchedulingStrategyInput } from './runtime/options.js';
export { getRuntimeContext } from './runtime/context.js';
export type { RuntimeContext } from './runtime/context.js';
export {
  DhtsError,
  RuntimeError,
  TaskError,
  WorkerCrashedError,
  NodeDiedError,
  ActorDiedError,
  ActorUnavailableError,
  ActorNotFoundError,
  ActorAlreadyExistsError,
  ObjectLostError,
  GetTimeoutError,
  TaskCancelledError,
  AuthenticationError,
  UnschedulableError,
  ConnectionClosedError,
  NotInitializedError,
  InvalidArgumentError,
  ConfigError,
} from '../protocol/errors.js';
export type { ErrorCode, WireError } from '../protocol/errors.js';
export type { Resources, ClusterStatus, NodeInfo, ActorInfo } from '../protocol/messages.js';
