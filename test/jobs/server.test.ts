import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HeadServiceContext } from '../../daemon/head/services.js';
import type { ClusterStatus } from '../../protocol/index.js';
import { startJobService } from '../../daemon/jobs/service.js';
import { JobClient } from '../../daemon/jobs/client.js';
import { JobAlreadyExistsError, JobApiUnavailableError, JobAuthenticationError, JobNotFoundError, JobNotTerminalError } from '../../daemon/jobs/errors.js';

const TOKEN = 'test-token-0123456789';

/** A head context whose node table the test controls: the job API is tested without a cluster. */
function fakeHead(tempDir: string, headCpus: number): HeadServiceContext & { setCpus(n: number): void } {
  const kv = new Map<string, Uint8Array | string>();
  let cpus = headCpus;
  return {
    address: '127.0.0.1:1',
    bindHost: '127.0.0.1',
    token: TOKEN,
    tempDir,
    status: (): ClusterStatus => ({
      headAddress: '127.0.0.1:1',
      nodes: [{ nodeId: 'n1', alive: true, hostname: 'h', address: '::ffff:127.0.0.1', isHead: true, total: { CPU: cpus }, available: { CPU: cpus }, labels: {}, workers: 0 }],
      actors: [],
      pendingDemands: [],
      tasks: { pending: 0, running: 0, finished: 0 },
      recentFailures: [],
    }),
    kvGet: (k) => kv.get(k),
    kvPut: (k, v) => void kv.set(k, v),
    kvDelete: (k) => kv.delete(k),
    kvList: (p) => [...kv.keys()].filter((k) => k.startsWith(p)),
    log: () => {},
    setCpus(n: number) {
      cpus = n;
    },
  };
}

t.test('job API over gRPC', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-jobs-'));
  const head = fakeHead(join(dir, 'head'), 2);
  mkdirSync(head.tempDir);
  const service = await startJobService(head, { port: 0 });
  const client = new JobClient({ address: service.server.address, token: TOKEN, timeoutMs: 10_000 });
  t.teardown(async () => {
    client.close();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  t.ok(existsSync(join(head.tempDir, 'jobs_address')), 'the address file is written for `dhts job` on the head host');

  t.test('health service answers without a token', async (t) => {
    const anonymous = new JobClient({ address: service.server.address });
    t.equal(await anonymous.checkHealth(), 'SERVING');
    t.equal(await anonymous.checkHealth('dhts.jobs.v1.JobService'), 'SERVING');
    anonymous.close();
  });

  t.test('a wrong or missing token is refused', async (t) => {
    for (const token of ['wrong-token-0123456789', undefined]) {
      const bad = new JobClient({ address: service.server.address, token });
      await t.rejects(bad.listJobs(), JobAuthenticationError);
      await t.rejects(bad.submitJob({ entrypoint: 'true' }), JobAuthenticationError);
      await t.rejects(async () => {
        for await (const _ of bad.tailJobLogs('x')) void _;
      }, JobAuthenticationError);
      bad.close();
    }
    t.same((await client.listJobs()).map((j) => j.entrypoint), [], 'nothing was submitted by the refused calls');
  });

  t.test('a job that succeeds: env, logs, status', async (t) => {
    process.env.DHTS_JOBS_PORT = '8265';
    t.teardown(() => void delete process.env.DHTS_JOBS_PORT);
    const id = await client.submitJob({ entrypoint: 'echo "addr=$DHTS_ADDRESS job=$DHTS_JOB_ID x=$X jobs_port=${DHTS_JOBS_PORT:-unset} token=${#DHTS_TOKEN}"', envVars: { X: '42' }, metadata: { owner: 'me' } });
    t.match(id, /^dhtssubmit_[A-Za-z1-9]{16}$/);
    const info = await client.waitUntilEnded(id);
    t.equal(info.status, 'SUCCEEDED');
    t.equal(info.driverExitCode, 0);
    t.same(info.metadata, { owner: 'me' });
    t.ok(info.startTime > 0 && info.endTime >= info.startTime);
    t.equal(await client.getJobLogs(id), `addr=127.0.0.1:1 job=${id} x=42 jobs_port=unset token=${TOKEN.length}\n`);
    t.ok((await client.listJobs()).some((j) => j.submissionId === id));
    await t.rejects(client.submitJob({ entrypoint: 'true', submissionId: id }), JobAlreadyExistsError);
    t.equal(await client.deleteJob(id), true);
    await t.rejects(client.getJob(id), JobNotFoundError);
  });

  t.test('a failing job reports its exit code and last log lines', async (t) => {
    const id = await client.submitJob({ entrypoint: 'echo first; echo boom >&2; exit 3' });
    const info = await client.waitUntilEnded(id);
    t.equal(info.status, 'FAILED');
    t.equal(info.errorType, 'JOB_ENTRYPOINT_COMMAND_ERROR');
    t.equal(info.driverExitCode, 3);
    t.match(info.message, /exited with code 3[\s\S]*boom/);
  });

  t.test('logs are streamed while the job runs; stop kills the whole process group', async (t) => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'dhts-job-')), 'child.pid');
    t.teardown(() => rmSync(dirname(pidFile), { recursive: true, force: true }));
    const id = await client.submitJob({ entrypoint: `sleep 30 & echo $! > ${pidFile}; echo started; wait`, submissionId: 'stop-me' });
    const chunks: string[] = [];
    const tail = (async () => {
      for await (const c of client.tailJobLogs(id)) chunks.push(c.toString());
    })();
    while (!chunks.join('').includes('started')) await new Promise((r) => setTimeout(r, 20));
    t.equal((await client.getJob(id)).status, 'RUNNING');
    await t.rejects(client.deleteJob(id), JobNotTerminalError, 'a running job cannot be deleted');
    t.equal(await client.stopJob(id), true);
    await tail;
    t.equal(chunks.join(''), 'started\n', 'the tail ends once the job has ended');
    const info = await client.getJob(id);
    t.equal(info.status, 'STOPPED');
    t.equal(await client.stopJob(id), false, 'stopping an ended job returns false');
    let alive = true;
    try {
      process.kill(info.driverPid, 0);
    } catch {
      alive = false;
    }
    t.notOk(alive, 'the entrypoint shell is gone');
    const sleeper = Number(readFileSync(pidFile, 'utf8').trim());
    let sleeperAlive = true;
    for (let i = 0; i < 50 && sleeperAlive; i++) {
      // A killed orphan may linger as a zombie until init reaps it: that counts as gone.
      const state = existsSync(`/proc/${sleeper}/stat`) ? readFileSync(`/proc/${sleeper}/stat`, 'utf8').split(') ')[1]?.[0] : 'X';
      if (state === 'Z' || state === 'X') sleeperAlive = false;
      else await new Promise((r) => setTimeout(r, 20));
    }
    t.notOk(sleeperAlive, 'the background child of the entrypoint is gone too');
  });

  t.test('entrypoint resources: waits for room, fails when it can never fit', async (t) => {
    const big = await client.submitJob({ entrypoint: 'true', entrypointNumCpus: 3 });
    const failed = await client.waitUntilEnded(big);
    t.equal(failed.status, 'FAILED');
    t.match(failed.message, /needs 3 CPU but the head's node has 2, and no other node can hold it/);
    const a = await client.submitJob({ entrypoint: 'sleep 0.5', entrypointNumCpus: 2 });
    const b = await client.submitJob({ entrypoint: 'true', entrypointNumCpus: 1 });
    t.equal((await client.getJob(b)).status, 'PENDING', 'b waits for a to free the CPUs');
    t.equal((await client.getJob(a)).entrypointNumCpus, 2);
    t.equal((await client.waitUntilEnded(b)).status, 'SUCCEEDED');
    t.ok((await client.getJob(b)).startTime >= (await client.getJob(a)).endTime, 'b started after a ended');
  });

  t.test('working dir: uploaded once by hash, the entrypoint runs from the unpacked copy', async (t) => {
    const wd = join(dir, 'project');
    mkdirSync(join(wd, 'lib'), { recursive: true });
    writeFileSync(join(wd, 'lib', 'objective.mjs'), 'export const objective = (x) => 10 - (x - 3) ** 2;\n');
    writeFileSync(join(wd, 'tune.mjs'), "import { objective } from './lib/objective.mjs';\nconsole.log('best', objective(3), process.cwd() !== process.env.SRC);\n");
    const id1 = await client.submitJob({ entrypoint: 'node tune.mjs', workingDir: wd, envVars: { SRC: wd } });
    const info = await client.waitUntilEnded(id1, { timeoutMs: 20_000 });
    t.equal(info.status, 'SUCCEEDED', info.message);
    t.equal(await client.getJobLogs(id1), 'best 10 true\n');
    t.match(info.runtimeEnv?.workingDir, /^pkg:\/\/[0-9a-f]{64}$/);
    t.ok(head.kvList('dhts:pkg:').length === 1, 'the package is in the head KV for other nodes');
    const id2 = await client.submitJob({ entrypoint: 'node tune.mjs', workingDir: wd });
    await client.waitUntilEnded(id2);
    t.equal((await client.getJob(id2)).runtimeEnv?.workingDir, info.runtimeEnv?.workingDir, 'same content, same package');
  });

  t.test('cluster status and node list', async (t) => {
    const nodes = await client.listNodes();
    t.equal(nodes.length, 1);
    t.equal(nodes[0]!.address, '127.0.0.1', 'IPv4-mapped addresses are reported plainly');
    t.match((await client.clusterStatus()).text, /Active:\n 1 head_n1/);
  });
});

t.test('an address where nothing listens gives JobApiUnavailableError', async (t) => {
  const client = new JobClient({ address: '127.0.0.1:1', token: TOKEN, timeoutMs: 2000 });
  await t.rejects(client.listJobs(), JobApiUnavailableError);
  client.close();
});
