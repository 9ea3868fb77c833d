// Reference counting across processes (Ray's borrowing): a ref nested inside a call's arguments is pinned by the call,
// reported back by a worker that still holds it, and freed by its owner once the call is done, its own refs are gone
// and every borrower has let go.
import t from 'tap';
import { get, put, remote, type ObjectRef } from '../../client/index.js';
import { getCore } from '../../client/runtime/state.js';
import { FIXTURES, withCluster } from '../helpers/cluster.js';
import { collectGarbage } from './fixtures/tasks.js';
import type * as Fx from './fixtures/tasks.js';

await withCluster(t, { agents: [{ numCpus: 2 }] });
const countRefs = remote<typeof Fx.countRefs>(FIXTURES, 'countRefs');
const Keeper = remote<typeof Fx.Keeper>(FIXTURES, 'Keeper');

/** Collects garbage here until the driver owns `count` objects (finalizers run between turns). */
async function ownedSettlesAt(count: number, ms = 5000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    collectGarbage();
    await new Promise((r) => setTimeout(r, 20));
    const n = getCore().ownedCount();
    if (n === count || Date.now() > end) return n;
  }
}

t.test('a ref nested in a task argument is freed once the task is done and the driver drops it', async (t) => {
  const base = await ownedSettlesAt(0);
  let refs: ObjectRef[] | undefined = [put('a'), put(new Uint8Array(200_000))];
  t.equal(await get(countRefs.remote(refs)), 2);
  t.equal(getCore().ownedCount(), base + 2 + 1, 'the two values (and the result ref) are still ours');
  refs = undefined;
  t.equal(await ownedSettlesAt(base), base, 'nothing pins them any more');
});

t.test('an actor that keeps a nested ref is a borrower: the value lives until it lets go', async (t) => {
  const keeper = Keeper.remote();
  t.equal(await get(keeper.keep.remote([])), 0);
  const base = await ownedSettlesAt(0);
  let ref: ObjectRef | undefined = put({ kept: true });
  t.equal(await get(keeper.keep.remote([ref])), 1);
  ref = undefined;
  t.equal(await ownedSettlesAt(base, 500), base + 1, 'the driver dropped its ref, the actor still borrows it');
  t.same(await get(keeper.read.remote()), [{ kept: true }], 'and can still read it');
  await get(keeper.forget.remote());
  t.equal(await ownedSettlesAt(base), base, 'freed once the actor let go');
});

t.test('a put value holding refs keeps them alive while it lives, and frees them with it', async (t) => {
  const base = await ownedSettlesAt(0);
  let inner: ObjectRef<Uint8Array> | undefined = put(new Uint8Array(200_000).fill(5));
  let outer: ObjectRef<{ inner: ObjectRef<Uint8Array> }> | undefined = put({ inner });
  inner = undefined;
  t.equal(await ownedSettlesAt(base + 1, 500), base + 2, 'the inner value lives on, held by the outer one');
  const readThrough = async (ref: ObjectRef<{ inner: ObjectRef<Uint8Array> }>) => (await get((await get(ref)).inner))[0];
  t.equal(await readThrough(outer), 5, 'and reads back through it');
  outer = undefined;
  t.equal(await ownedSettlesAt(base), base, 'both freed once nothing holds the outer value');
});

t.test('refs inside a put value whose bytes left this process stay pinned (the reader may still hold them)', async (t) => {
  const base = await ownedSettlesAt(0);
  let inner: ObjectRef<string> | undefined = put('inside');
  let outer: ObjectRef<ObjectRef<string>[]> | undefined = put([inner]);
  inner = undefined;
  t.equal(await get(countRefs.remote(outer)), 1, 'a task read the outer value');
  outer = undefined;
  t.equal(await ownedSettlesAt(base + 1, 800), base + 1, 'the outer value is freed, the inner one stays');
});
