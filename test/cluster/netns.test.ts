import { join } from 'node:path';
import t from 'tap';
import { NodeAffinitySchedulingStrategy, get, nodes, remote } from '../../client/index.js';
import { CLI, FIXTURES, withCluster } from '../helpers/cluster.js';
import { createNetwork, netnsUnavailableReason } from '../helpers/netns.js';
import type * as Fx from './fixtures/tasks.js';

const reason = await netnsUnavailableReason();
if (reason) {
  t.comment(`skip: agents in network namespaces need \`ip netns\`: ${reason}`);
  t.pass('skipped: ip netns is refused here');
} else {
  t.test('agents in two network namespaces join the head over veth; a cut-off node is declared dead', async (t) => {
    const net = await createNetwork({ hosts: 2 });
    t.teardown(() => net.remove());
    const cluster = await withCluster(t, { agents: [], bind: net.gatewayIp, nodeTimeoutMs: 2000 });
    for (const [i, host] of net.hosts.entries()) {
      const child = net.spawn(host, process.execPath, [
        CLI, 'start', '--block', '--address', cluster.address, '--token-file', join(cluster.tempDir, 'token'),
        '--temp-dir', join(cluster.tempDir, `ns-${i}`), '--num-cpus', '1', '--resources', JSON.stringify({ [`host${i}`]: 1 }),
      ], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
      cluster.adopt(child);
    }
    let list = await nodes();
    for (let i = 0; i < 200 && list.filter((n) => n.Alive).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = await nodes();
    }
    t.equal(list.filter((n) => n.Alive).length, 2, 'both namespaced agents registered');
    const addresses = list.map((n) => n.NodeManagerAddress).sort();
    t.same(addresses, net.hosts.map((h) => h.ip).sort(), 'each node connects from its own namespace address');

    const where = remote<typeof Fx.where>(FIXTURES, 'where');
    const w0 = await get(where.options({ numCpus: 0, resources: { host0: 1 } }).remote());
    const w1 = await get(where.options({ numCpus: 0, resources: { host1: 1 } }).remote());
    t.not(w0.nodeId, w1.nodeId);

    // A large value produced in one namespace, consumed in the other.
    const bigArray = remote<typeof Fx.bigArray>(FIXTURES, 'bigArray');
    const checksum = remote<typeof Fx.checksum>(FIXTURES, 'checksum');
    const big = bigArray.options({ schedulingStrategy: new NodeAffinitySchedulingStrategy(w0.nodeId!) }).remote(500_000);
    const sum = await get(checksum.options({ schedulingStrategy: new NodeAffinitySchedulingStrategy(w1.nodeId!) }).remote(big));
    t.equal(sum, await get(checksum.remote(await get(big))));

    // Cut host 1 off: its agent falls silent, and the head declares the node dead within the timeout.
    const cut = Date.now();
    await net.setLinkUp(net.hosts[1]!, false);
    let dead = false;
    while (!dead && Date.now() - cut < 10_000) {
      dead = !(await nodes()).find((n) => n.NodeID === w1.nodeId)!.Alive;
      if (!dead) await new Promise((r) => setTimeout(r, 100));
    }
    const after = Date.now() - cut;
    t.ok(dead && after < 2000 + 1500, `node declared dead after ${after} ms (timeout 2000 ms)`);
    t.ok((await get(where.options({ numCpus: 0, resources: { host0: 1 } }).remote())).nodeId === w0.nodeId, 'the other node still serves');
  });
}
