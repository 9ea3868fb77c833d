/**
 * Idle task workers are asked to exit after the idle timeout, keeping a warm pool of plain workers (one per CPU);
 * a worker still holding an object for others refuses, as Ray's workers do.
 */
import t from 'tap';
import { get, remote } from '../../client/index.js';
import { FIXTURES, isAlive as alive, withCluster } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

const IDLE_MS = 600;
process.env.DHTS_IDLE_WORKER_TIMEOUT_MS = String(IDLE_MS); // read by the head this test starts
const cluster = await withCluster(t, { agents: [{ numCpus: 1 }] });
delete process.env.DHTS_IDLE_WORKER_TIMEOUT_MS;

const envVar = remote<typeof Fx.envVar>(FIXTURES, 'envVar');

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

t.test('idle workers of a runtime env exit; the warm plain pool and workers holding objects stay', async (t) => {
  const plain = await get(envVar.remote('X'));
  const scoped = await get(envVar.options({ runtimeEnv: { env: { X: 'reaped' } } }).remote('X'));
  const bigRef = remote<typeof Fx.bigWithPid>(FIXTURES, 'bigWithPid').options({ runtimeEnv: { env: { X: 'holder' } } }).remote(1 << 20);
  const holder = (await get(bigRef)).pid;
  t.ok(await until(() => !alive(scoped.pid), IDLE_MS * 10), 'the idle worker of an env exited');
  await new Promise((r) => setTimeout(r, IDLE_MS * 2));
  t.ok(alive(plain.pid), 'the warm pool (1 plain worker on a 1-CPU node) stays');
  t.ok(alive(holder), 'a worker holding a value for this driver refuses to exit');
  t.equal((await get(bigRef)).data.byteLength, 1 << 20, 'and the value is still there');
  const again = await get(envVar.options({ runtimeEnv: { env: { X: 'reaped' } } }).remote('X'));
  t.equal(again.value, 'reaped', 'work of a reaped env gets a new worker');
  t.not(again.pid, scoped.pid);
});
