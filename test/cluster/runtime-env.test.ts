/**
 * Runtime env vars (Ray's runtime_env env_vars) reach the workers that run a driver's, a job's or a task's work, and
 * workers are pooled per env: a worker started for one env never runs work of another.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { get, remote } from '../../client/index.js';
import { mergeEnv, taskOptions } from '../../client/runtime/options.js';
import { envKeyOf } from '../../daemon/head/head.js';
import { JobClient } from '../../daemon/jobs/client.js';
import { FIXTURES, isAlive as alive, withCluster } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

type Seen = { value: string | undefined; pid: number; nodeId: string | undefined };
const DRIVER = fileURLToPath(new URL('./fixtures/env-driver.js', import.meta.url));

const cluster = await withCluster(t, { agents: [{ numCpus: 1 }, { numCpus: 1, resources: { second: 1 } }] });
const onFirst = { resources: { first: 0 }, numCpus: 1, schedulingStrategy: { type: 'NODE_AFFINITY', nodeId: cluster.agents[0]!.nodeId, soft: false } };
const envVar = remote<typeof Fx.envVar>(FIXTURES, 'envVar');
const run = promisify(execFile);

t.test('env merge and pool keys (no cluster)', async (t) => {
  const opts = taskOptions({ runtimeEnv: { env: { A: 'task', C: '3' } } });
  t.same(mergeEnv(opts, { A: 'driver', B: '2' }).env, { A: 'task', B: '2', C: '3' }, 'task/actor options win over driver/job vars');
  t.equal(mergeEnv(taskOptions({}), undefined).env, undefined);
  t.equal(envKeyOf({}), envKeyOf(undefined), 'an empty env is the plain pool');
  t.equal(envKeyOf({ A: '1', B: '2' }), envKeyOf({ B: '2', A: '1' }), 'key does not depend on insertion order');
  t.not(envKeyOf({ A: '1' }), envKeyOf({ A: '2' }));
  t.throws(() => taskOptions({ runtimeEnv: { env: { A: 1 as unknown as string } } }), { code: 'INVALID_ARGUMENT' });
});

async function otherDriver(env: Record<string, string> | undefined): Promise<Seen[]> {
  const args = [DRIVER, env ? JSON.stringify(env) : '', JSON.stringify(onFirst)];
  const { stdout } = await run(process.execPath, args, {
    env: { ...process.env, DHTS_ADDRESS: cluster.address, DHTS_TOKEN: cluster.token },
    timeout: 60_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`driver printed no result: ${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as Seen[];
}

t.test('task and actor options set env vars in their own workers; nested tasks inherit them', async (t) => {
  const pinned = envVar.options(onFirst as never);
  const plain = await get(pinned.remote('DHTS_TEST_VAR'));
  t.equal(plain.value, undefined);
  const withEnv = await get(pinned.options({ runtimeEnv: { env: { DHTS_TEST_VAR: 'task' } } }).remote('DHTS_TEST_VAR'));
  t.equal(withEnv.value, 'task');
  t.not(withEnv.pid, plain.pid, 'a worker of the plain pool is not reused for another env');
  t.equal((await get(pinned.remote('DHTS_TEST_VAR'))).value, undefined, 'the plain pool stays plain');
  const nested = remote<typeof Fx.nestedEnvVar>(FIXTURES, 'nestedEnvVar').options({ runtimeEnv: { env: { DHTS_TEST_VAR: 'parent' } } });
  t.equal((await get(nested.remote('DHTS_TEST_VAR'))).value, 'parent');
  const Reader = remote<typeof Fx.EnvReader>(FIXTURES, 'EnvReader');
  const reader = Reader.options({ runtimeEnv: { env: { DHTS_TEST_VAR: 'actor' } } }).remote();
  t.equal(await get(reader.read.remote('DHTS_TEST_VAR')), 'actor');
});

t.test("each driver's tasks see its init() env; drivers with different env never share a worker", async (t) => {
  const [a, b] = await Promise.all([otherDriver({ DHTS_TEST_VAR: 'driver-a' }), otherDriver({ DHTS_TEST_VAR: 'driver-b' })]);
  t.same(a.map((s) => s.value), ['driver-a', 'driver-a']);
  t.same(b.map((s) => s.value), ['driver-b', 'driver-b']);
  const pidsA = new Set(a.map((s) => s.pid));
  t.ok(b.every((s) => !pidsA.has(s.pid)), 'no worker ran tasks of both drivers');
  const again = await otherDriver({ DHTS_TEST_VAR: 'driver-a' });
  t.same(again.map((s) => s.value), ['driver-a', 'driver-a'], 'a later driver with the same env gets the same env');
});

t.test("a job's env vars reach a task on a second node", async (t) => {
  const jobs = new JobClient({ address: readFileSync(join(cluster.tempDir, 'jobs_address'), 'utf8').trim(), token: cluster.token });
  t.teardown(() => jobs.close());
  const onSecond = JSON.stringify({ numCpus: 0, resources: { second: 1 } });
  const id = await jobs.submitJob({
    entrypoint: `'${process.execPath}' '${DRIVER}' '' '${onSecond}'`,
    envVars: { DHTS_TEST_VAR: 'from-job' },
  });
  const info = await jobs.waitUntilEnded(id, { timeoutMs: 60_000 });
  const logs = await jobs.getJobLogs(id);
  if (info.status !== 'SUCCEEDED') t.comment(logs);
  t.equal(info.status, 'SUCCEEDED', 'the job succeeded');
  const line = logs.split('\n').find((l) => l.startsWith('RESULT '));
  const seen = JSON.parse(line?.slice('RESULT '.length) ?? '[]') as Seen[];
  t.same(seen.map((s) => s.value), ['from-job', 'from-job']);
  t.ok(seen.every((s) => s.nodeId === cluster.agents[1]!.nodeId), 'the tasks ran on the second node');
});

t.test("a node's task workers stay near its CPU count: a worker for a new env sends an idle one of another env away", async (t) => {
  // A node of its own, so that idle workers left by other tests are not the ones sent away.
  await cluster.addAgent({ numCpus: 1, resources: { softLimit: 1 } });
  const pids: number[] = [];
  for (const value of ['e1', 'e2', 'e3', 'e4']) {
    const seen: Seen = await get(envVar.options({ resources: { softLimit: 1 }, runtimeEnv: { env: { SOFT_LIMIT: value } } }).remote('SOFT_LIMIT'));
    t.equal(seen.value, value);
    pids.push(seen.pid);
  }
  const end = Date.now() + 10_000;
  while (pids.slice(0, 3).some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  t.same(pids.slice(0, 3).map(alive), [false, false, false], 'the idle workers of the earlier envs exited (the idle timeout is 60 s)');
  t.ok(alive(pids[3]!), 'the newest one stays');
});
