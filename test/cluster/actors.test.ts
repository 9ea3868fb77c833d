import t from 'tap';
import {
  ActorAlreadyExistsError,
  ActorDiedError,
  ActorNotFoundError,
  ActorPool,
  TaskError,
  clusterStatus,
  get,
  getActor,
  kill,
  remote,
  type ActorHandle,
} from '../../client/index.js';
import { FIXTURES, withCluster } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

await withCluster(t, { agents: [{ numCpus: 2 }, { numCpus: 2 }] });

const Counter = remote<typeof Fx.Counter>(FIXTURES, 'Counter');

t.test('an actor keeps its state; calls run in submission order', async (t) => {
  const c = Counter.remote(10);
  const refs = Array.from({ length: 50 }, () => c.increment.remote(1));
  t.same(await get(refs), Array.from({ length: 50 }, (_, i) => 11 + i));
  t.equal(await get(c.read.remote()), 60);
  const error = await get(c.throws.remote()).catch((e: unknown) => e);
  t.ok(error instanceof TaskError);
  t.equal((error as TaskError).remoteName, 'TypeError');
  t.equal(await get(c.read.remote()), 60, 'an exception in a method does not kill the actor');
  kill(c);
});

t.test('named actors, namespaces, getIfExists and getActor', async (t) => {
  const a = Counter.options({ name: 'shared', namespace: 'n1' }).remote(1);
  await get(a.read.remote());
  const again = await getActor<Fx.Counter>('shared', { namespace: 'n1' });
  t.equal(await get(again.increment.remote(1)), 2);
  await t.rejects(getActor('shared'), ActorNotFoundError, 'other namespace');
  const same = Counter.options({ name: 'shared', namespace: 'n1', getIfExists: true }).remote(100);
  t.equal(await get(same.increment.remote(1)), 3, 'getIfExists returns the existing actor');
  const dup = Counter.options({ name: 'shared', namespace: 'n1' }).remote(0);
  await t.rejects(get(dup.read.remote()), ActorAlreadyExistsError);
  kill(a);
  await new Promise((r) => setTimeout(r, 100));
  await t.rejects(getActor('shared', { namespace: 'n1' }), ActorNotFoundError, 'a killed actor loses its name');
  await t.rejects(get(a.read.remote()), ActorDiedError);
});

t.test('maxConcurrency bounds concurrent async calls', async (t) => {
  const Conc = remote<typeof Fx.Concurrency>(FIXTURES, 'Concurrency');
  const one = Conc.remote();
  const three = Conc.options({ maxConcurrency: 3 }).remote();
  await get([...Array.from({ length: 6 }, () => one.work.remote(30)), ...Array.from({ length: 6 }, () => three.work.remote(60))]);
  t.equal(await get(one.getPeak.remote()), 1);
  t.equal(await get(three.getPeak.remote()), 3);
  kill(one);
  kill(three);
});

t.test('a handle passed to a task reaches the same actor; actors can be passed around', async (t) => {
  const c = Counter.remote(0);
  const reportTo = remote<typeof Fx.reportTo>(FIXTURES, 'reportTo');
  await get([reportTo.remote(c, 5), reportTo.remote(c, 5)]);
  t.equal(await get(c.read.remote()), 10);
  const echo = remote<(h: ActorHandle<Fx.Counter>) => ActorHandle<Fx.Counter>>(FIXTURES, 'echo');
  const back = await get(echo.remote(c));
  t.equal(back.actorId, c.actorId);
  t.equal(await get(back.increment.remote(1)), 11);
  kill(c);
});

t.test('a constructor that throws: calls fail with ActorDiedError naming the cause', async (t) => {
  const Bad = remote<typeof Fx.FailingConstructor>(FIXTURES, 'FailingConstructor');
  const b = Bad.remote();
  const error = await get(b.ping.remote()).catch((e: unknown) => e);
  t.ok(error instanceof ActorDiedError);
  t.match((error as Error).message, /constructor refused/);
});

t.test('detached actors are listed with their state; kill() ends them', async (t) => {
  const d = Counter.options({ name: 'keeper', lifetime: 'detached' }).remote(0);
  await get(d.read.remote());
  const status = await clusterStatus();
  const info = status.actors.find((a) => a.name === 'keeper');
  t.equal(info?.state, 'ALIVE');
  t.equal(info?.detached, true);
  kill(d);
  await t.rejects(get(d.read.remote()), ActorDiedError);
});

t.test('ActorPool: ordered map, unordered map, submit/getNext, hasFree/popIdle/push', async (t) => {
  const actors = [Counter.remote(0), Counter.remote(100)];
  const pool = new ActorPool<ActorHandle<Fx.Counter>, number, number>(actors);
  const out: number[] = [];
  for await (const v of pool.map((a, v) => a.increment.remote(v), [1, 2, 3, 4])) out.push(v);
  t.equal(out.length, 4);
  const unordered: number[] = [];
  for await (const v of pool.mapUnordered((a, v) => a.slow.remote(v), [80, 10, 40])) unordered.push(v);
  t.equal(unordered.length, 3);
  t.equal(pool.hasNext(), false);
  await t.rejects(pool.getNext(), /no more results/);
  t.equal(pool.hasFree(), true);
  const idle = pool.popIdle()!;
  t.ok(idle);
  pool.push(idle);
  t.throws(() => pool.push(idle), /already belongs/);
  pool.submit((a, v) => a.increment.remote(v), 1);
  pool.submit((a, v) => a.increment.remote(v), 1);
  t.equal(pool.hasFree(), false, 'second submit waits for an actor');
  await pool.getNext();
  await pool.getNext();
  t.equal(pool.hasNext(), false);
  for (const a of actors) kill(a);
});

t.test('ActorPool: an actor that dies is not returned to the pool; the others finish the work', async (t) => {
  const victim = Counter.remote(0);
  const healthy = Counter.remote(0);
  const pool = new ActorPool<ActorHandle<Fx.Counter>, string, unknown>([healthy, victim]);
  // LIFO: the first submit goes to the last actor given (the victim), which kills itself.
  pool.submit((a, what) => (what === 'die' ? a.die.remote() : a.increment.remote(1)), 'die');
  for (let i = 0; i < 4; i++) pool.submit((a) => a.increment.remote(1), 'inc');
  const results: unknown[] = [];
  let died = 0;
  while (pool.hasNext()) {
    try {
      results.push(await pool.getNextUnordered());
    } catch (e) {
      t.ok(e instanceof ActorDiedError);
      died++;
    }
  }
  t.equal(died, 1);
  t.equal(results.length, 4);
  t.equal(await get(healthy.read.remote()), 4, 'the healthy actor did all the remaining work');
  t.equal(pool.hasFree(), true);
  const left = pool.popIdle();
  t.equal(left?.actorId, healthy.actorId);
  t.equal(pool.popIdle(), undefined, 'the dead actor is gone from the pool');
  kill(healthy);
});
