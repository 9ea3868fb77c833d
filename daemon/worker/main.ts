/**
 * Worker process entry. Started by the agent with an IPC channel; the first IPC message carries the head address,
 * the cluster token and this worker's id (never the command line, so `ps` does not show the token). The worker
 * connects straight to the head, then runs what the head sends. It exits when its agent goes away (IPC disconnect)
 * or when it loses the head.
 */
import type { WorkerInit } from '../agent/agent.js';
import { CoreClient } from '../../client/runtime/core.js';
import { makeActorHandle } from '../../client/runtime/remote.js';
import { setRuntime } from '../../client/runtime/state.js';
import { Executor, setModuleResolver } from './executor.js';
import { CLOSE_AGENT_GONE } from '../../protocol/index.js';
import { kvPackageFetcher, localizeModuleUrl, setNodeTempDir } from '../jobs/working-dir.js';

function waitForInit(): Promise<WorkerInit> {
  return new Promise((resolve, reject) => {
    if (!process.send) {
      reject(new Error('dhts worker: must be started by an agent (no IPC channel)'));
      return;
    }
    process.once('message', (m: WorkerInit) => resolve(m));
  });
}

async function main(): Promise<void> {
  const init = await waitForInit();
  let core: CoreClient | undefined;
  // The agent is gone (killed, crashed): tell the head why before leaving, so it knows the node is going down.
  process.on('disconnect', () => {
    if (!core) process.exit(0);
    core.close(CLOSE_AGENT_GONE, 'agent gone');
    setTimeout(() => process.exit(0), 200).unref();
  });
  core = await CoreClient.connect({
    address: init.headAddress,
    token: init.token,
    role: 'worker',
    namespace: 'default',
    workerId: init.workerId,
    nodeId: init.nodeId,
  });
  core.actorHandleFactory = (actorId, className) => makeActorHandle(actorId, className);
  core.runtimeEnvVars = init.runtimeEnvVars;
  setRuntime({ core, isWorker: true });
  const fetchPackage = kvPackageFetcher(async (key) => (await core.request('kvGet', { key })) as Uint8Array | string | null);
  setNodeTempDir(init.tempDir);
  setModuleResolver((url) => localizeModuleUrl(url, { tempDir: init.tempDir, fetch: fetchPackage }));
  new Executor(core, init.workerId, init.nodeId);
  core.onClose(() => setTimeout(() => process.exit(0), 10));
  process.on('uncaughtException', (e) => {
    process.stderr.write(`dhts worker ${init.workerId}: uncaught exception: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    process.stderr.write(`dhts worker ${init.workerId}: unhandled rejection: ${(e as Error)?.stack ?? String(e)}\n`);
  });
}

main().catch((e: Error) => {
  process.stderr.write(`dhts worker: ${e.message}\n`);
  process.exit(1);
});
