import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { clusterResources, get, init, remote, shutdown, type ObjectRef } from '../../client/index.js';
import { FIXTURES } from '../helpers/cluster.js';
import { collectGarbage } from './fixtures/tasks.js';
import type * as Fx from './fixtures/tasks.js';

t.test('init() with nothing running starts an embedded cluster sized to the machine, shutdown() stops it', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'dhts-none-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const info = await init({ tempDir: empty, numCpus: 1 });
  t.equal(info.embedded, true);
  t.equal((await clusterResources()).CPU, 1);
  const where = remote<typeof Fx.where>(FIXTURES, 'where');
  const w = await get(where.remote());
  t.ok(w.pid > 0);

  // Large results stay in the worker until the driver drops its refs; then the worker frees them.
  const bigArray = remote<typeof Fx.bigArray>(FIXTURES, 'bigArray');
  const heldHere = remote<typeof Fx.heldHere>(FIXTURES, 'heldHere');
  let refs: ObjectRef<Uint8Array>[] | undefined = Array.from({ length: 4 }, () => bigArray.remote(300_000));
  await get(refs);
  t.equal(await get(heldHere.remote()), 4, 'the single worker holds the four large results');
  refs = undefined;
  let held = 4;
  for (let i = 0; i < 50 && held > 0; i++) {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 50));
    held = await get(heldHere.remote());
  }
  t.equal(held, 0, 'freed once no ref is left');

  await t.rejects(init({ tempDir: empty }), /already called/);

  // Worker output reaches the driver, prefixed with its pid and node.
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (String(chunk).includes('hello from a worker')) lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  const log = remote<typeof Fx.log>(FIXTURES, 'log');
  const pid = await get(log.remote('hello from a worker'));
  for (let i = 0; i < 40 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  process.stdout.write = write;
  t.match(lines.join(''), new RegExp(`\\(pid=${pid}, node=\\S+\\) hello from a worker`));
  await shutdown();
  await new Promise((r) => setTimeout(r, 300));
  t.throws(() => process.kill(w.pid, 0), 'its worker is gone');
  t.notOk(existsSync(info.address), 'nothing left');
  await t.rejects(init({ address: 'auto', tempDir: empty }), /could not find a running cluster/);
});

t.test('a driver that exits without shutdown() takes its embedded cluster with it', async (t) => {
  const { spawn } = await import('node:child_process');
  const empty = mkdtempSync(join(tmpdir(), 'dhts-none-'));
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const script = `
    import { init, remote, get } from ${JSON.stringify(new URL('../../client/index.js', import.meta.url).href)};
    await init({ tempDir: ${JSON.stringify(empty)}, numCpus: 1, logToDriver: false });
    const w = await get(remote(${JSON.stringify(FIXTURES.href)}, 'where').remote());
    console.log(JSON.stringify(w));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.equal(code, 0, 'the driver exits on its own (the cluster does not keep it alive)');
  const { pid } = JSON.parse(out.trim()) as { pid: number };
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, 'the embedded cluster and its worker are gone');
});
