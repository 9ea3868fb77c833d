import t from 'tap';
import { Scheduler, SchedulingQueue, type Demand } from '../../daemon/head/scheduler.js';

function cluster(): Scheduler {
  const s = new Scheduler();
  s.addNode('a', { CPU: 4, memory: 1000 });
  s.addNode('b', { CPU: 4, GPU: 2, memory: 1000 });
  s.addNode('c', { CPU: 1, bigmem: 1 });
  return s;
}
const cpu = (n: number, strategy: Demand['strategy'] = 'DEFAULT', preferredNodeId?: string): Demand => ({ resources: { CPU: n }, strategy, preferredNodeId });

t.test('DEFAULT packs the first (or preferred) node until it is half busy, then spreads', async (t) => {
  const s = cluster();
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) {
    const p = s.place(cpu(1));
    t.equal(p.kind, 'node');
    if (p.kind === 'node') {
      s.acquire(p.nodeId, { CPU: 1 });
      placed.push(p.nodeId);
    }
  }
  // a: 0/4 -> 1/4 -> 2/4 (half: score 0.5) then b (score 0) -> b again (1/4 < 0.5)
  t.same(placed, ['a', 'a', 'b', 'b']);
  const pref = cluster();
  const p = pref.place(cpu(1, 'DEFAULT', 'b'));
  t.same(p, { kind: 'node', nodeId: 'b' });
});

t.test('SPREAD rotates over the nodes that fit', async (t) => {
  const s = cluster();
  const seq = [0, 1, 2, 3].map(() => {
    const p = s.place(cpu(1, 'SPREAD'));
    return p.kind === 'node' ? p.nodeId : p.kind;
  });
  t.same(seq, ['a', 'b', 'c', 'a']);
});

t.test('resources: custom and GPU demands go where they fit; GPU indices are granted and returned', async (t) => {
  const s = cluster();
  t.same(s.place({ resources: { bigmem: 1 }, strategy: 'DEFAULT' }), { kind: 'node', nodeId: 'c' });
  const p = s.place({ resources: { GPU: 1 }, strategy: 'DEFAULT' });
  t.same(p, { kind: 'node', nodeId: 'b' });
  t.same(s.acquire('b', { GPU: 1 }), [0]);
  t.same(s.acquire('b', { GPU: 1 }), [1]);
  t.same(s.place({ resources: { GPU: 1 }, strategy: 'DEFAULT' }), { kind: 'wait', infeasible: false });
  s.release('b', { GPU: 1 }, [0]);
  t.same(s.acquire('b', { GPU: 1 }), [0]);
  t.same(s.place({ resources: { GPU: 3 }, strategy: 'DEFAULT' }), { kind: 'wait', infeasible: true });
  t.same(s.place({ resources: { unicorn: 1 }, strategy: 'DEFAULT' }), { kind: 'wait', infeasible: true });
});

t.test('node affinity: hard waits or fails, soft falls back', async (t) => {
  const s = cluster();
  s.acquire('c', { CPU: 1 });
  t.same(s.place(cpu(1, { type: 'NODE_AFFINITY', nodeId: 'c', soft: false })), { kind: 'wait', infeasible: false });
  t.same(s.place(cpu(1, { type: 'NODE_AFFINITY', nodeId: 'c', soft: true })), { kind: 'node', nodeId: 'a' });
  t.equal(s.place(cpu(1, { type: 'NODE_AFFINITY', nodeId: 'zz', soft: false })).kind, 'fail');
  t.equal(s.place(cpu(8, { type: 'NODE_AFFINITY', nodeId: 'a', soft: false })).kind, 'fail');
  s.setSchedulable('a', false);
  t.equal(s.place(cpu(1, { type: 'NODE_AFFINITY', nodeId: 'a', soft: false })).kind, 'fail');
  t.same(s.place(cpu(1, { type: 'NODE_AFFINITY', nodeId: 'a', soft: true })), { kind: 'node', nodeId: 'b' });
});

t.test('the queue places FIFO per class, skips a blocked class without scanning it, and reports demands', async (t) => {
  const s = new Scheduler();
  s.addNode('a', { CPU: 2 });
  const q = new SchedulingQueue<{ demand: Demand; id: number }>();
  for (let i = 0; i < 1000; i++) q.push({ demand: cpu(1), id: i });
  q.push({ demand: { resources: { GPU: 1 }, strategy: 'DEFAULT' }, id: -1 });
  q.push({ demand: cpu(1, { type: 'NODE_AFFINITY', nodeId: 'gone', soft: false }), id: -2 });
  const placed: number[] = [];
  const failed: number[] = [];
  q.pump(s, (item, node) => {
    placed.push(item.id);
    s.acquire(node, item.demand.resources);
  }, (item) => failed.push(item.id));
  t.same(placed, [0, 1]);
  t.same(failed, [-2]);
  t.equal(q.size, 999);
  const demands = q.demands(s);
  t.same(demands.find((d) => d.resources.GPU)?.infeasible, true);
  t.same(demands.find((d) => d.resources.CPU)?.count, 998);
  s.release('a', { CPU: 1 });
  q.pump(s, (item, node) => {
    placed.push(item.id);
    s.acquire(node, item.demand.resources);
  }, () => {});
  t.same(placed, [0, 1, 2]);
  t.same(q.remove((i) => i.id === 3 || i.id === -1).map((i) => i.id).sort(), [-1, 3]);
  t.equal(q.size, 996);
});
