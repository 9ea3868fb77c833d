// Direct actor calls (Ray's): once a caller knows where an actor lives, its calls go straight to the actor's process.
// These tests make sure the head is really off the path, that order, cancellation and every failure outcome
// (retry, unavailable, dead) hold for calls in flight on a direct connection, and that the endpoint is guarded.
import t from 'tap';
import WebSocket from 'ws';
import {
  ActorDiedError,
  ActorUnavailableError,
  NodeAffinitySchedulingStrategy,
  TaskCancelledError,
  cancel,
  clusterStatus,
  get,
  remote,
  type ActorHandle,
} from '../../client/index.js';
import { PROTOCOL_VERSION, decodeFrame, dial, encodeFrames } from '../../protocol/index.js';
import { FIXTURES, withCluster } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

const cluster = await withCluster(t, { agents: [{ numCpus: 4 }], nodeTimeoutMs: 1500 });
const Counter = remote<typeof Fx.Counter>(FIXTURES, 'Counter');

/** Calls the head has seen finish (direct calls never reach it). */
const headFinished = async () => (await clusterStatus()).tasks.finished;

/** Calls until one goes straight to the actor (the head's count of finished work stops moving). */
async function untilDirect(c: ActorHandle<Fx.Counter>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const before = await headFinished();
    await get(c.read.remote());
    if ((await headFinished()) === before) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('calls never went direct');
}

async function addressOf(c: ActorHandle<Fx.Counter>): Promise<string> {
  const pid = await get(c.pid.remote());
  const info = (await clusterStatus()).actors.find((a) => a.pid === pid);
  if (!info?.address) throw new Error(`actor with pid ${pid} has no direct address`);
  return info.address;
}

t.test('after the first call, calls go straight to the actor, in order, without the head', async (t) => {
  const c = Counter.remote(0);
  await untilDirect(c);
  const before = await headFinished();
  const sequential: number[] = [];
  for (let i = 0; i < 50; i++) sequential.push(await get(c.increment.remote(1)));
  t.same(sequential, Array.from({ length: 50 }, (_, i) => i + 1));
  t.same(await get(Array.from({ length: 200 }, () => c.increment.remote(1))), Array.from({ length: 200 }, (_, i) => 51 + i), 'a batch keeps its order');
  t.equal(await headFinished(), before, 'the head saw none of these 250 calls');
});

/** Once `actor` takes direct calls, starts `calls` on it and kills its process with them in flight. */
async function killWithCallsInFlight<T>(actor: ActorHandle<Fx.Counter>, calls: () => T): Promise<{ pid: number; inflight: T }> {
  await untilDirect(actor);
  const pid = await get(actor.pid.remote());
  const inflight = calls();
  await new Promise((r) => setTimeout(r, 200));
  process.kill(pid, 'SIGKILL');
  return { pid, inflight };
}

t.test('kill -9 with calls in flight on a direct connection: unavailable, retried, or dead as the options say', async (t) => {
  const unavailable = Counter.options({ maxRestarts: 1 }).remote(5);
  const lost = await killWithCallsInFlight(unavailable, () => unavailable.slow.remote(3000));
  await t.rejects(get(lost.inflight), ActorUnavailableError, 'maxTaskRetries 0: the call was lost with its process');
  t.equal(await get(unavailable.increment.remote(1)), 6, 'restarted with its constructor arguments');
  await untilDirect(unavailable);
  t.not(await get(unavailable.pid.remote()), lost.pid, 'the new incarnation takes direct calls too');

  const retried = Counter.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(7);
  const resent = await killWithCallsInFlight(retried, () => [retried.slow.remote(1000), retried.increment.remote(1)]);
  t.same(await get(resent.inflight), [7, 8], 'maxTaskRetries re-sent both lost calls, in order, to the restarted actor');

  const mortal = Counter.remote(1);
  const doomed = await killWithCallsInFlight(mortal, () => mortal.slow.remote(3000));
  await t.rejects(get(doomed.inflight), ActorDiedError, 'no restarts: the actor is dead');
  await t.rejects(get(mortal.read.remote()), ActorDiedError);
});

t.test('cancel of a direct call: queued ones are dropped, a running one answers at once', async (t) => {
  const c = Counter.remote(3);
  await untilDirect(c);
  const started = Date.now();
  const running = c.slow.remote(1500);
  const queued = c.increment.remote(100);
  await new Promise((r) => setTimeout(r, 100));
  cancel(queued);
  cancel(running);
  await t.rejects(get(queued), TaskCancelledError);
  await t.rejects(get(running), TaskCancelledError);
  t.ok(Date.now() - started < 1400, 'the running call was answered before it finished');
  t.equal(await get(c.read.remote()), 3, 'the queued call never ran');
});

t.test('the direct endpoint refuses a wrong token and bad frames, and keeps serving', async (t) => {
  const c = Counter.remote(0);
  await untilDirect(c);
  const address = await addressOf(c);
  await t.rejects(
    dial(address, { role: 'driver', token: 'wrong', pid: process.pid, hostname: 'test' }),
    { name: 'AuthenticationError' },
  );
  const raw = new WebSocket(`ws://${address}`);
  await new Promise((r) => raw.once('open', r));
  const closed = new Promise<number>((r) => raw.once('close', (code) => r(code)));
  const replies: unknown[] = [];
  raw.on('message', (d) => replies.push(...decodeFrame(d as Buffer)));
  raw.send(Buffer.from([0xc1, 0xff, 0x00]));
  t.ok((await closed) >= 4000, 'a garbage frame closes that connection with a protocol error');
  t.match(replies, [{ type: 'error' }]);
  const agent = new WebSocket(`ws://${address}`);
  await new Promise((r) => agent.once('open', r));
  const agentClosed = new Promise<number>((r) => agent.once('close', (code) => r(code)));
  agent.send(encodeFrames([{ type: 'hello', version: PROTOCOL_VERSION, role: 'agent', token: cluster.token, pid: 1, hostname: 'x' }], 1 << 20)[0]!);
  t.ok((await agentClosed) >= 4000, 'an agent may not send calls here');
  t.equal(await get(c.increment.remote(1)), 1, 'the actor still serves its callers');
});

t.test('a node cut off with its actor: calls in flight on the direct connection come back through the head', async (t) => {
  // Frozen, the node's processes keep their sockets open: only the head's verdict on the node can free the caller.
  const victim = await cluster.addAgent({ numCpus: 1 });
  const softly = new NodeAffinitySchedulingStrategy(victim.nodeId, true);
  const c = Counter.options({ maxRestarts: 1, maxTaskRetries: 1, schedulingStrategy: softly }).remote(40);
  await untilDirect(c);
  const workerPid = await get(c.pid.remote());
  t.teardown(() => {
    for (const pid of [victim.pid, workerPid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const inflight = c.slow.remote(1000);
  await new Promise((r) => setTimeout(r, 100));
  process.kill(workerPid, 'SIGSTOP');
  process.kill(victim.pid, 'SIGSTOP');
  t.equal(await get(inflight, { timeoutMs: 15_000 }), 40, 'retried on the actor restarted elsewhere');
  t.not(await get(c.pid.remote()), workerPid);
});
