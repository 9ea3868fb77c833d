import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { clusterResources, get, init, remote, shutdown } from '../../client/index.js';
import { FIXTURES } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

t.test('init() with nothing running starts an embedded cluster sized to the machine, shutdown() stops it', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'dhts-none-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const info = await init({ tempDir: empty, logToDriver: false, numCpus: 2 });
  t.equal(info.embedded, true);
  t.equal((await clusterResources()).CPU, 2);
  const where = remote<typeof Fx.where>(FIXTURES, 'where');
  const w = await get(where.remote());
  t.ok(w.pid > 0);
  await t.rejects(init({ tempDir: empty }), /already called/);
  await shutdown();
  await new Promise((r) => setTimeout(r, 300));
  t.throws(() => process.kill(w.pid, 0), 'its worker is gone');
  t.notOk(existsSync(info.address), 'nothing left');
  await t.rejects(init({ address: 'auto', tempDir: empty }), /could not find a running cluster/);
});
