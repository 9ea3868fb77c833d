import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  ActorDiedError,
  ActorNotFoundError,
  ActorUnavailableError,
  NodeAffinitySchedulingStrategy,
  NodeDiedError,
  ObjectLostError,
  WorkerCrashedError,
  wait,
  get,
  getActor,
  nodes,
  remote,
} from '../../client/index.js';
import { FIXTURES, withCluster } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

const NODE_TIMEOUT_MS = 1500;
const cluster = await withCluster(t, { agents: [{ numCpus: 2 }], nodeTimeoutMs: NODE_TIMEOUT_MS });
const dir = mkdtempSync(join(tmpdir(), 'dhts-fail-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const pidThenSleep = remote<typeof Fx.pidThenSleep>(FIXTURES, 'pidThenSleep');
const Counter = remote<typeof Fx.Counter>(FIXTURES, 'Counter');

async function waitForFile(path: string, timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (existsSync(path)) {
      const s = readFileSync(path, 'utf8');
      if (s) return s;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} did not appear`);
}

t.test('kill -9 of a busy worker: the task is retried, then WorkerCrashedError when retries run out', async (t) => {
  const ref = pidThenSleep.options({ maxRetries: 1 }).remote(dir, 'w1', 300);
  const pid = Number(await waitForFile(join(dir, 'w1.pid')));
  rmSync(join(dir, 'w1.pid'));
  process.kill(pid, 'SIGKILL');
  const pid2 = await get(ref);
  t.not(pid2, pid, 'the retry ran in another worker');

  const doomed = pidThenSleep.options({ maxRetries: 0 }).remote(dir, 'w2', 5000);
  process.kill(Number(await waitForFile(join(dir, 'w2.pid'))), 'SIGKILL');
  const error = await get(doomed).catch((e: unknown) => e);
  t.ok(error instanceof WorkerCrashedError, `got ${String(error)}`);

  const crashUntil = remote<typeof Fx.crashUntil>(FIXTURES, 'crashUntil');
  const markers = mkdtempSync(join(dir, 'm-'));
  t.equal(await get(crashUntil.remote(markers, 2)), 2, 'default maxRetries (3) covers two crashes');
});

t.test('kill -9 of an actor worker: restarts up to maxRestarts; a call in flight fails as unavailable', async (t) => {
  const c = Counter.options({ maxRestarts: 1 }).remote(5);
  t.equal(await get(c.increment.remote(1)), 6);
  const pid = await get(c.pid.remote());
  const inflight = c.slow.remote(2000);
  await new Promise((r) => setTimeout(r, 200));
  process.kill(pid, 'SIGKILL');
  await t.rejects(get(inflight), ActorUnavailableError);
  t.equal(await get(c.increment.remote(1)), 6, 'restarted with the constructor arguments');
  t.not(await get(c.pid.remote()), pid);
  process.kill(await get(c.pid.remote()), 'SIGKILL');
  await t.rejects(get(c.read.remote()), ActorDiedError, 'no restarts left');

  const retried = Counter.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(0);
  const p = await get(retried.pid.remote());
  const call = retried.slow.remote(1000);
  await new Promise((r) => setTimeout(r, 200));
  process.kill(p, 'SIGKILL');
  t.equal(await get(call), 0, 'maxTaskRetries re-sent the call to the restarted actor');
});

t.test('kill -9 of an agent: detected within the timeout; tasks retried elsewhere, actors restarted or dead', async (t) => {
  const victim = await cluster.addAgent({ numCpus: 2, resources: { victim: 1 } });
  const softly = new NodeAffinitySchedulingStrategy(victim.nodeId, true);
  const survivor = Counter.options({ maxRestarts: 1, schedulingStrategy: softly }).remote(1);
  const mortal = Counter.options({ schedulingStrategy: softly }).remote(1);
  t.equal(await get(survivor.where.remote()), victim.nodeId);
  t.equal(await get(mortal.where.remote()), victim.nodeId);
  const bigArray = remote<typeof Fx.bigArray>(FIXTURES, 'bigArray');
  const rebuilt = bigArray.options({ schedulingStrategy: softly }).remote(400_000);
  const unrecoverable = bigArray.options({ schedulingStrategy: softly, maxRetries: 0 }).remote(400_000);
  await wait([rebuilt, unrecoverable], { numReturns: 2 });
  const retried = pidThenSleep.options({ schedulingStrategy: softly, maxRetries: 2 }).remote(dir, 'a1', 1500);
  const lost = pidThenSleep.options({ schedulingStrategy: new NodeAffinitySchedulingStrategy(victim.nodeId, true), maxRetries: 0 }).remote(dir, 'a2', 5000);
  await waitForFile(join(dir, 'a1.pid'));
  await waitForFile(join(dir, 'a2.pid'));
  const killedAt = Date.now();
  victim.kill('SIGKILL');

  t.ok((await get(retried)) > 0, 'the task ran again on the surviving node');
  await t.rejects(get(lost), NodeDiedError);
  await t.rejects(get(mortal.read.remote()), ActorDiedError);
  t.equal(await get(survivor.increment.remote(1)), 2, 'restarted on the other node');
  t.equal(await get(survivor.where.remote()), cluster.agents[0]!.nodeId);
  t.equal((await get(rebuilt)).length, 400_000, 'a large value lost with its node is rebuilt by re-running its task');
  await t.rejects(get(unrecoverable), ObjectLostError, 'without retries it is lost');
  for (;;) {
    const n = (await nodes()).find((x) => x.NodeID === victim.nodeId)!;
    if (!n.Alive) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const detectedIn = Date.now() - killedAt;
  t.ok(detectedIn < NODE_TIMEOUT_MS + 1500, `node declared dead after ${detectedIn} ms (timeout ${NODE_TIMEOUT_MS} ms)`);
});

t.test('a driver that exits takes its non-detached actors with it; detached ones stay', async (t) => {
  const script = `
    import { init, remote, get } from ${JSON.stringify(new URL('../../client/index.js', import.meta.url).href)};
    await init({ address: process.env.A, token: process.env.T });
    const C = remote(${JSON.stringify(FIXTURES.href)}, 'Counter');
    const a = C.options({ name: 'orphan' }).remote(0);
    const b = C.options({ name: 'keeper', lifetime: 'detached' }).remote(0);
    await get([a.read.remote(), b.read.remote()]);
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, A: cluster.address, T: cluster.token, NODE_OPTIONS: '' }, stdio: 'inherit' });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.equal(code, 0);
  const keeper = await getActor<Fx.Counter>('keeper');
  t.equal(await get(keeper.increment.remote(1)), 1);
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = await getActor('orphan').then(() => false, (e: unknown) => e instanceof ActorNotFoundError);
    if (!gone) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(gone, 'the non-detached actor died with its driver');
});

t.test('an agent that loses the head reconnects with backoff and keeps its node', async (t) => {
  // A TCP proxy between the agent and the head lets the test cut the agent's connection.
  const sockets = new Set<Socket>();
  const [host, port] = cluster.address.split(':') as [string, string];
  const proxy = createServer((client) => {
    const upstream = connect(Number(port), host);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    proxy.close();
  });
  const proxyPort = (proxy.address() as { port: number }).port;
  const agent = await cluster.addAgent({ numCpus: 1, resources: { proxied: 1 }, address: `127.0.0.1:${proxyPort}` });
  const where = remote<typeof Fx.where>(FIXTURES, 'where').options({ numCpus: 0, resources: { proxied: 1 } });
  t.equal((await get(where.remote())).nodeId, agent.nodeId);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise((r) => setTimeout(r, 600));
  const n = (await nodes()).find((x) => x.NodeID === agent.nodeId)!;
  t.equal(n.Alive, true, 'the node is still alive: the agent came back within the timeout');
  t.equal((await get(where.remote())).nodeId, agent.nodeId, 'and it runs work again');
});
