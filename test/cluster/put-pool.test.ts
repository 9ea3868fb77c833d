// Large puts reuse the buffers of freed ones: when the pool runs low while large values are outstanding, the runtime
// runs a collection so that dropped refs are found dead (and backs off while collections free nothing).
import t from 'tap';
import { put, type ObjectRef } from '../../client/index.js';
import { collectionCount } from '../../client/runtime/collector.js';
import { freshBufferCount } from '../../client/runtime/serialize.js';
import { getCore } from '../../client/runtime/state.js';
import { withCluster } from '../helpers/cluster.js';

await withCluster(t, { agents: [{ numCpus: 1 }] });
const MB = 1024 * 1024;
const turn = () => new Promise((r) => setImmediate(r));

t.test('dropped large puts are collected and freed without the program asking for a GC', async (t) => {
  const value = new Uint8Array(32 * MB).fill(7);
  const before = collectionCount();
  const base = getCore().ownedCount();
  const fresh = freshBufferCount();
  for (let i = 0; i < 48; i++) {
    put(value); // the ref is dropped at once
    await turn();
  }
  for (let i = 0; i < 20 && getCore().ownedCount() > base + 4; i++) await turn();
  t.ok(collectionCount() > before, `collections ran (${collectionCount() - before})`);
  // The first few puts find the pool empty (4 to 6 here). Without the collections V8 collects only after several
  // fresh allocations, and about one put in three misses the pool (18 of 48 here).
  t.ok(freshBufferCount() - fresh <= 10, `${freshBufferCount() - fresh} of 48 puts copied into fresh memory`);
  t.ok(getCore().ownedCount() <= base + 4, `at most the last few puts are still owned (${getCore().ownedCount() - base})`);
});

t.test('while every large put stays referenced, collections back off', async (t) => {
  const value = new Uint8Array(8 * MB).fill(3);
  const kept: ObjectRef[] = [];
  const before = collectionCount();
  for (let i = 0; i < 48; i++) {
    kept.push(put(value));
    await turn();
  }
  const ran = collectionCount() - before;
  t.ok(ran >= 1 && ran <= 8, `${ran} collections for 48 puts that all stay referenced`);
  t.equal(kept.length, 48);
});
