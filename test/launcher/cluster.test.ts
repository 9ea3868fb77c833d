/**
 * End to end on one machine: three hosts made of network namespaces, each with a real sshd; the launcher brings
 * up a head and two workers over SSH, runs an SDK driver and a submitted job that ships its modules in a working
 * dir, sees a worker's agent killed with -9, and `down` leaves no process on any host.
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createNetwork, netnsUnavailableReason, type NetnsHost } from '../helpers/netns.js';
import { startSshd, sshdUnavailableReason } from '../helpers/sshd.js';
import { ClusterLauncher } from '../../daemon/launcher/cluster.js';
import { parseClusterConfig } from '../../daemon/launcher/config.js';
import { HostsFailedError, SshUnreachableError } from '../../daemon/launcher/errors.js';
import { JobClient } from '../../daemon/jobs/client.js';
import { JobAuthenticationError } from '../../daemon/jobs/errors.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../daemon/cli/main.js', import.meta.url));
const SDK = pathToFileURL(fileURLToPath(new URL('../../client/index.js', import.meta.url))).href;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

t.test('launcher on three SSH hosts: up, drivers, jobs, a lost worker, down', async (t) => {
  const reason = (await netnsUnavailableReason()) ?? sshdUnavailableReason();
  if (reason) {
    t.comment(`skipping: ${reason}`);
    t.pass(`skipped: ${reason}`);
    return;
  }
  const net = await createNetwork({ hosts: 3 });
  const ssh = await startSshd(net);
  const dir = mkdtempSync(join(tmpdir(), 'dhts-launch-'));
  const print = (line: string) => (lines.push(line), allLines.push(line));
  const lines: string[] = [];
  const allLines: string[] = [];
  let launcher: ClusterLauncher | undefined;
  t.teardown(async () => {
    await launcher?.close().catch(() => {});
    await ssh.stop();
    await net.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const [h0, h1, h2] = net.hosts as [NetnsHost, NetnsHost, NetnsHost];
  const unreachable = `${h0.ip.split('.').slice(0, 3).join('.')}.250`;
  const yaml = (workers: string[]) => `
cluster_name: e2e
provider: {type: local, head_ip: ${h0.ip}, worker_ips: [${workers.join(', ')}]}
auth: {ssh_user: ${ssh.user}, ssh_private_key: ${ssh.privateKeyPath}}
dhts_command: ${process.execPath} ${CLI}
temp_dir: ${join(dir, 'nodes')}
ssh: {connect_timeout_s: 5, retries: 2, wait_for_ssh_s: 3}
rsync_exclude: ['.git']
env: {DHTS_TEST_MARK: e2e}
file_mounts: {"${join(dir, 'mounted', 'conf')}": "${join(dir, 'conf')}"}
setup_commands: ['echo setting up on $DHTS_NODE_IP', 'test -f ${join(dir, 'mounted', 'conf', 'settings.json')}']
head_start_commands: ['dhts stop', 'dhts start --head --port=$DHTS_PORT --num-cpus=1 --node-timeout-ms=1500']
worker_start_ray_commands: ['ray stop', 'ray start --address=$RAY_HEAD_IP:6379 --num-cpus=2 --object-store-memory=1000000']
`;
  mkdirSync(join(dir, 'conf', '.git'), { recursive: true });
  writeFileSync(join(dir, 'conf', 'settings.json'), '{"lr": 0.1}');
  writeFileSync(join(dir, 'conf', '.git', 'HEAD'), 'x');
  const options = { stateRoot: join(dir, 'state'), print, sshBackoffMs: 200, joinTimeoutS: 30 };

  // 1. A worker that does not exist is reported, and does not keep the others from coming up.
  launcher = new ClusterLauncher(parseClusterConfig(yaml([h1.ip, h2.ip, unreachable]), join(dir, 'e2e.yaml')), options);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - start);
    }
  };
  const failed = await timed('up (3 hosts + 1 unreachable)', () => launcher!.up()).then(() => undefined, (e: unknown) => e);
  t.ok(failed instanceof HostsFailedError, 'up fails');
  const failures = (failed as HostsFailedError).failures;
  t.same([...failures.keys()], [`worker ${unreachable}`], `only the unreachable host failed: ${(failed as Error).message}`);
  t.ok(failures.get(`worker ${unreachable}`) instanceof SshUnreachableError);
  t.match((failed as Error).message, new RegExp(`worker ${unreachable.replace(/\./g, '\\.')}: cannot reach`));
  t.ok(lines.some((l) => l === `(worker ${h1.ip}) setting up on ${h1.ip}`), 'setup output is prefixed with the host');
  t.ok(lines.some((l) => l.includes('--object-store-memory=1000000')), 'the dropped Ray flag is reported');
  await launcher.close();

  launcher = new ClusterLauncher(parseClusterConfig(yaml([h1.ip, h2.ip]), join(dir, 'e2e.yaml')), options);
  const client = launcher.jobClient();
  t.teardown(() => client.close());
  const nodes = (await client.listNodes()).filter((n) => n.alive);
  t.equal(nodes.length, 3, 'head and both workers joined');
  t.same(nodes.filter((n) => !n.isHead).map((n) => n.address).sort(), [h1.ip, h2.ip].sort());
  t.same(nodes.filter((n) => !n.isHead).map((n) => n.labels['dhts.host']).sort(), [h1.ip, h2.ip].sort(), 'workers carry the host label');

  t.equal(readFileSync(join(dir, 'mounted', 'conf', 'settings.json'), 'utf8'), '{"lr": 0.1}', 'file_mounts copied the directory');
  t.notOk(existsSync(join(dir, 'mounted', 'conf', '.git')), 'rsync_exclude applies');

  // 2. up is idempotent.
  const again = await timed('up again (nothing to do)', () => launcher!.up());
  t.same(again.started, [], 'a second up starts nothing');
  t.equal(again.alreadyRunning.length, 3);

  // 3. The token is on no command line on any host.
  const token = launcher.token();
  const everywhere = (await Promise.all(net.hosts.map((h) => net.pids(h)))).flat();
  t.ok(everywhere.length > 3);
  t.notOk(everywhere.some((pid) => cmdlineOf(pid).includes(token)), '`ps` does not show the token');
  for (const h of net.hosts) {
    const file = join(dir, 'nodes', 'e2e', h.ip, 'token');
    t.equal((await run('stat', ['-c', '%a', file])).stdout.trim(), '600', `token file on ${h.name} is 0600`);
  }

  // 4. An SDK driver through exec (DHTS_ADDRESS and DHTS_TOKEN come from the launcher).
  const tasks = join(dir, 'tasks.mjs');
  writeFileSync(tasks, 'export function where() { return `${process.env.DHTS_NODE_IP}|${process.env.DHTS_TEST_MARK}`; }\n');
  writeFileSync(
    join(dir, 'driver.mjs'),
    `import { init, remote, get, shutdown } from '${SDK}';
await init({ address: 'auto' });
const where = remote(${JSON.stringify(pathToFileURL(tasks).href)}, 'where', { schedulingStrategy: 'SPREAD' });
const ips = await get(Array.from({ length: 12 }, () => where.remote()));
console.log('ips=' + [...new Set(ips.map((s) => s.split('|')[0]))].sort().join(','));
console.log('env=' + [...new Set(ips.map((s) => s.split('|')[1]))].join(','));
await shutdown();
`,
  );
  lines.length = 0;
  const code = await launcher.exec(`node ${join(dir, 'driver.mjs')}`);
  t.equal(code, 0, lines.join('\n'));
  const ipsLine = lines.find((l) => l.startsWith('ips='));
  t.ok(ipsLine, 'the driver printed where its tasks ran');
  t.ok(ipsLine!.split('=')[1]!.split(',').filter((ip) => ip === h1.ip || ip === h2.ip).length >= 1, `tasks ran on worker hosts: ${ipsLine}`);
  t.ok(lines.includes('env=e2e'), "the config's env reaches the workers");

  // A command's own failure is returned, not retried (a remote exit 255 is not taken for a connection error).
  const counter = join(dir, 'attempts.txt');
  t.equal(await launcher.exec(`echo attempt >> ${counter}; exit 255`), 254);
  t.equal(readFileSync(counter, 'utf8'), 'attempt\n', 'ran once');
  t.equal(await launcher.exec('exit 3', { nodeIp: h2.ip }), 3);

  // rsync-up / rsync-down / submit (Ray's semantics: copy the script to the head's home, run it there).
  writeFileSync(join(dir, 'payload.txt'), 'payload\n');
  await launcher.rsyncUp(join(dir, 'payload.txt'), join(dir, 'up', 'payload.txt'), { nodeIp: h1.ip });
  await launcher.rsyncDown(join(dir, 'up', 'payload.txt'), join(dir, 'down.txt'), { nodeIp: h1.ip });
  t.equal(readFileSync(join(dir, 'down.txt'), 'utf8'), 'payload\n');
  lines.length = 0;
  t.equal(await launcher.submit(join(dir, 'driver.mjs')), 0, lines.join('\n'));
  t.ok(lines.some((l) => l.startsWith('ips=')), 'submit ran the driver on the head');

  // 5. A submitted job whose modules travel in its working dir.
  const project = join(dir, 'project');
  mkdirSync(join(project, 'lib'), { recursive: true });
  writeFileSync(join(project, 'lib', 'objective.mjs'), 'export function objective(x) { return { y: 10 - (x - 3) ** 2, ip: process.env.DHTS_NODE_IP, url: import.meta.url }; }\n');
  writeFileSync(join(project, '.gitignore'), 'big.bin\n');
  writeFileSync(join(project, 'big.bin'), Buffer.alloc(1024));
  writeFileSync(
    join(project, 'tune.mjs'),
    `import { init, remote, get, shutdown } from '${SDK}';
import { existsSync } from 'node:fs';
await init();
const objective = remote(new URL('./lib/objective.mjs', import.meta.url), 'objective', { schedulingStrategy: 'SPREAD' });
const results = await get([0, 1, 2, 3, 4, 5].map((x) => objective.remote(x)));
console.log('best=' + Math.max(...results.map((r) => r.y)));
console.log('ignored-file-shipped=' + existsSync('big.bin'));
console.log('module-urls=' + JSON.stringify(results.map((r) => [r.ip, r.url])));
await shutdown();
`,
  );
  const info = await timed('job with working dir: submit to SUCCEEDED', async () =>
    client.waitUntilEnded(await client.submitJob({ entrypoint: 'node tune.mjs', workingDir: project }), { timeoutMs: 60_000, pollMs: 50 }));
  const id = info.submissionId;
  const logs = await client.getJobLogs(id);
  t.equal(info.status, 'SUCCEEDED', `${info.message}\n${logs}`);
  t.match(logs, /best=10\n/);
  t.match(logs, /ignored-file-shipped=false\n/, '.gitignore is honoured');
  const urls = JSON.parse(/module-urls=(.*)\n/.exec(logs)![1]!) as [string, string][];
  t.ok(urls.some(([ip]) => ip !== h0.ip), 'some evaluations ran on worker hosts');
  for (const [ip, url] of urls) {
    t.match(url, new RegExp(`/e2e/${ip.replace(/\./g, '\\.')}/runtime_resources/working_dir/[0-9a-f]{64}/lib/objective\\.mjs$`), `the module was imported from ${ip}'s own unpacked copy`);
  }

  // An entrypoint the head's node cannot hold (2 CPUs; the head has 1) runs on a worker, in its own unpacked copy.
  const remoteJob = await client.waitUntilEnded(
    await client.submitJob({ entrypoint: 'echo "ran-on=$DHTS_NODE_IP module=$(test -f lib/objective.mjs && echo yes)"', workingDir: project, entrypointNumCpus: 2 }),
    { timeoutMs: 60_000 },
  );
  const remoteLog = await client.getJobLogs(remoteJob.submissionId);
  t.equal(remoteJob.status, 'SUCCEEDED', `${remoteJob.message}\n${remoteLog}`);
  const ranOn = /ran-on=(\S*) module=(\S*)/.exec(remoteLog);
  t.ok(ranOn && [h1.ip, h2.ip].includes(ranOn[1]!) && ranOn[2] === 'yes', `ran on a worker host, from the working dir: ${remoteLog}`);
  const never = await client.waitUntilEnded(await client.submitJob({ entrypoint: 'true', entrypointNumCpus: 5 }));
  t.equal(never.status, 'FAILED');
  t.equal(never.errorType, 'JOB_ENTRYPOINT_UNSCHEDULABLE');
  const longRemote = await client.submitJob({ entrypoint: 'echo started; exec sleep 37', entrypointNumCpus: 2 });
  await waitFor('remote job output', async () => (await client.getJobLogs(longRemote)).includes('started'), 30_000);
  t.equal(await client.stopJob(longRemote), true);
  t.equal((await client.getJob(longRemote)).status, 'STOPPED');
  const sleeping = await waitFor('the remote entrypoint to be gone', async () => {
    const all = (await Promise.all([h1, h2].map((h) => net.pids(h)))).flat();
    return all.some((p) => cmdlineOf(p) === 'sleep 37 ') ? false : 'gone';
  }, 10_000).catch(() => 'still running');
  t.equal(sleeping, 'gone', 'stopping the job killed the entrypoint on the worker host');

  // A driver outside the cluster ships its own directory with init({ runtimeEnv: { workingDir } }).
  const laptop = join(dir, 'laptop');
  mkdirSync(join(laptop, 'lib'), { recursive: true });
  writeFileSync(join(laptop, 'lib', 'where.mjs'), 'export function where() { return [process.env.DHTS_NODE_IP, import.meta.url]; }\n');
  writeFileSync(
    join(laptop, 'driver.mjs'),
    `import { init, remote, get, shutdown } from '${SDK}';
const where = remote(new URL('./lib/where.mjs', import.meta.url), 'where', { schedulingStrategy: 'SPREAD' });
await init({ runtimeEnv: { workingDir: new URL('.', import.meta.url).pathname } });
console.log(JSON.stringify(await get(Array.from({ length: 9 }, () => where.remote()))));
await shutdown();
`,
  );
  const sdk = await run(process.execPath, [join(laptop, 'driver.mjs')], { env: { ...process.env, DHTS_ADDRESS: `${h0.ip}:6379`, DHTS_TOKEN: token }, timeout: 60_000 });
  const placed = JSON.parse(sdk.stdout.trim().split('\n').pop()!) as [string, string][];
  t.ok(new Set(placed.map(([ip]) => ip)).size >= 2, `tasks spread over nodes: ${[...new Set(placed.map(([ip]) => ip))].join(', ')}`);
  for (const [ip, url] of placed) {
    t.match(url, new RegExp(`/e2e/${ip.replace(/\./g, '\\.')}/runtime_resources/working_dir/[0-9a-f]{64}/lib/where\\.mjs$`), `init's working dir was unpacked on ${ip}`);
  }

  // The job CLI, with address and token taken from the cluster config.
  const cfgFile = join(dir, 'e2e.yaml');
  writeFileSync(cfgFile, yaml([h1.ip, h2.ip]));
  const cliEnv = { ...process.env, DHTS_HOME: join(dir, 'state') };
  const submitted = await run(process.execPath, [CLI, 'job', 'submit', '--cluster-config', cfgFile, '--env', 'GREETING=hi', '--', 'sh', '-c', 'echo "$GREETING from the job"'], { env: cliEnv });
  t.equal(submitted.stdout, 'hi from the job\n', 'submit follows the log until the end');
  t.match(submitted.stderr, /Job 'dhtssubmit_\w+' succeeded/);
  const listed = await run(process.execPath, [CLI, 'job', 'list', '--cluster-config', cfgFile], { env: cliEnv });
  t.match(listed.stdout, /SUCCEEDED\s+sh -c 'echo "\$GREETING from the job"'/);
  // attach: an interactive shell on the head with the cluster's environment (driven here through a pipe).
  const attached = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'attach', cfgFile], { env: cliEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out));
    child.stdin.end('echo "role=$DHTS_ROLE on=$DHTS_NODE_IP"; type dhts | head -1\nexit\n');
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  });
  t.match(attached, `role=head on=${h0.ip}`, 'attach opens a shell on the head');
  t.match(attached, 'dhts is a function');

  const failedJob = await run(process.execPath, [CLI, 'job', 'submit', '--cluster-config', cfgFile, '--', 'exit 7'], { env: cliEnv }).then(() => 0, (e: { code: number }) => e.code);
  t.equal(failedJob, 1, 'a failed job makes `dhts job submit` exit 1');

  // 6. A wrong token is refused by the head's job API.
  const intruder = new JobClient({ address: launcher.jobsAddress, token: 'not-the-token' });
  await t.rejects(intruder.listJobs(), JobAuthenticationError);
  intruder.close();

  // 7. kill -9 the agent of a worker host: the head reports the node dead, and so does cluster-status.
  const agentPid = (await net.pids(h2)).find((pid) => /main\.js start .*--address/.test(cmdlineOf(pid)) && cmdlineOf(pid).includes('--block'));
  t.ok(agentPid, 'found the agent of h2');
  const h2Node = (await client.listNodes()).find((n) => n.address === h2.ip);
  t.ok(h2Node, 'h2 is in the node table');
  process.kill(agentPid!, 'SIGKILL');
  const dead = await waitFor('h2 reported dead', async () => (await client.listNodes()).find((n) => n.nodeId === h2Node!.nodeId && !n.alive), 30_000).catch(async (e: Error) => {
    const logs = join(dir, 'nodes', 'e2e', h0.ip, 'logs');
    for (const f of readdirSync(logs).filter((f) => f.startsWith('dhts-head'))) t.comment(readFileSync(join(logs, f), 'utf8').slice(-3000));
    throw e;
  });
  t.ok(dead.deathReason, `death reason: ${dead.deathReason}`);
  const status = await launcher.status();
  t.match(status, new RegExp(`worker ${h2.ip.replace(/\./g, '\\.')}\\s+ssh ok; NOT JOINED`));
  t.match(status, new RegExp(`worker ${h1.ip.replace(/\./g, '\\.')}\\s+ssh ok; joined`));

  // 8. The head dies too: h1's agent and workers lose their head. down stops everything it started on every host.
  const headPid = (await net.pids(h0)).find((pid) => /main\.js start .*--head/.test(cmdlineOf(pid)) && cmdlineOf(pid).includes('--block'));
  t.ok(headPid, 'found the head daemon');
  process.kill(headPid!, 'SIGKILL');
  const sshdPids = new Set(ssh.servers.map((s) => s.pid));
  const down = await timed('down (3 hosts)', () => launcher!.down());
  t.equal(down.stopped.length, 3);
  for (const h of net.hosts) {
    const left = await waitFor(
      `no process left on ${h.name}`,
      async () => {
        const pids = (await net.pids(h)).filter((p) => !sshdPids.has(p) && !/^sshd/.test(cmdlineOf(p)) && cmdlineOf(p) !== '');
        return pids.length === 0 ? [] : false;
      },
      10_000,
    ).catch(async () => (await net.pids(h)).filter((p) => !sshdPids.has(p)).map((p) => `${p}: ${cmdlineOf(p)}`));
    t.same(left, [], `nothing left on ${h.name}`);
  }
  t.same(readdirSync(join(dir, 'nodes', 'e2e', h1.ip)).filter((f) => f === 'token'), [], 'token files removed');
  t.comment(`timings (ms): ${JSON.stringify(timings)}`);
  t.notOk(allLines.some((l) => l.includes(token)), 'the token never appeared in the launcher output');
  const logDir = join(dir, 'nodes', 'e2e', h0.ip, 'logs');
  t.notOk(readdirSync(logDir).some((f) => readFileSync(join(logDir, f), 'utf8').includes(token)), 'nor in the head node logs');
});

t.test('dhts up with a bad config exits 1 naming file, line and field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-badcfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'cluster_name: x\nprovider:\n  type: local\n  head_ip: 10.0.0.1\n  worker_ip: [10.0.0.2]\nauth: {ssh_user: u}\n');
  const result = await run(process.execPath, [CLI, 'up', file]).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(result.code, 1);
  t.match(result.stderr, `${file}:5:3: field "provider.worker_ip": unknown field (did you mean "worker_ips"?)`);
});
