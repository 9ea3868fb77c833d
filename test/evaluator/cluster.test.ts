// The cluster backend: the same contract suite on a real local cluster, evaluations on another node, resources.
import t from 'tap';
import { Evaluator } from '../../client/evaluator/index.js';
import { withCluster } from '../helpers/cluster.js';
import { contractSuite, FIXTURES } from './contract-suite.js';

t.test('cluster backend', async (t) => {
  // Two nodes: evaluations asking for the "far" resource run on the second one, i.e. away from the driver's node.
  await withCluster(t, { agents: [{ numCpus: 2 }, { numCpus: 2, resources: { far: 2 } }] });

  await t.test('contract', (t) => contractSuite(t, 'cluster'));

  await t.test('contract on the other node (stop decisions cross nodes)', (t) => contractSuite(t, 'cluster', { resources: { numCpus: 1, resources: { far: 1 } } }));

  await t.test('a stopped command on another node really stops', async (t) => {
    const script = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "{{\\"step\\": $i, \\"objective\\": $i}}"; sleep 0.2; done; echo 99';
    const evaluator = await Evaluator.create({ command: script }, { method: 'cluster', numWorkers: 1, resources: { numCpus: 1, resources: { far: 1 } } });
    try {
      evaluator.setStopHandler((_id, step) => ({ stop: step >= 2, reason: 'test' }));
      evaluator.submit([{ id: '0', parameters: {} }]);
      const [r] = await evaluator.gather();
      t.equal(r!.stopped, true);
      t.equal(r!.objective, 2);
      t.ok(r!.timestamps.end - r!.timestamps.start < 1500, 'well before the 2 s of a full run');
    } finally {
      await evaluator.close();
    }
  });

  await t.test('numWorkers actors run evaluations in parallel', async (t) => {
    const evaluator = await Evaluator.create(FIXTURES, 'deaf', { method: 'cluster', numWorkers: 3 });
    try {
      evaluator.submit([0, 1, 2].map((i) => ({ id: `w${i}`, parameters: { ms: 1 } })));
      for (let n = 0; n < 3; ) n += (await evaluator.gather()).length;
      const start = Date.now();
      evaluator.submit([0, 1, 2].map((i) => ({ id: String(i), parameters: { ms: 600 } })));
      for (let n = 0; n < 3; ) n += (await evaluator.gather()).length;
      // One at a time: 1,800 ms.
      t.ok(Date.now() - start < 1400, `three 600 ms evaluations took ${Date.now() - start} ms`);
    } finally {
      await evaluator.close();
    }
  });
});
