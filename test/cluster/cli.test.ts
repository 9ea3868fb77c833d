import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { get, init, remote, shutdown } from '../../client/index.js';
import { CLI, FIXTURES } from '../helpers/cluster.js';
import type * as Fx from './fixtures/tasks.js';

const root = mkdtempSync(join(tmpdir(), 'dhts-cli-'));
const headDir = join(root, 'head');
const agentDir = join(root, 'agent');

function dhts(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, NODE_OPTIONS: '', DHTS_ADDRESS: '' }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function daemonPids(dir: string): number[] {
  try {
    return (execFileSyncList(join(dir, 'daemons')) ?? []).map((f) => Number(f.replace('.json', '')));
  } catch {
    return [];
  }
}
function execFileSyncList(dir: string): string[] | undefined {
  return existsSync(dir) ? (require_readdir(dir) as string[]) : undefined;
}
import { readdirSync as require_readdir } from 'node:fs';

t.teardown(async () => {
  await shutdown();
  await dhts(['stop', '--temp-dir', agentDir, '--force']);
  await dhts(['stop', '--temp-dir', headDir, '--force']);
  rmSync(root, { recursive: true, force: true });
});

t.test('start --head, join with --token-file, status, a driver via address auto, stop', async (t) => {
  const head = await dhts(['start', '--head', '--port', '0', '--num-cpus', '1', '--temp-dir', headDir, '--labels', 'role=head']);
  t.equal(head.code, 0, head.stderr);
  t.match(head.stdout, /Started the head at 127\.0\.0\.1:\d+/);
  t.match(head.stdout, /Token file: .*token/);
  const address = readFileSync(join(headDir, 'dhts_current_cluster'), 'utf8').trim();
  const token = readFileSync(join(headDir, 'token'), 'utf8').trim();
  t.equal(statSync(join(headDir, 'token')).mode & 0o777, 0o600, 'token file is 0600');

  const again = await dhts(['start', '--head', '--port', '0', '--temp-dir', headDir]);
  t.not(again.code, 0);
  t.match(again.stderr, /already running at/);
  const port = address.split(':')[1]!;
  const busy = await dhts(['start', '--head', '--port', port, '--temp-dir', join(root, 'other')]);
  t.match(busy.stderr, /already in use/);

  const agent = await dhts(['start', '--address', address, '--token-file', join(headDir, 'token'), '--temp-dir', agentDir, '--num-cpus', '1', '--resources', '{"bigmem": 2}']);
  t.equal(agent.code, 0, agent.stderr);
  t.match(agent.stdout, /Joined the cluster/);

  const ps = await new Promise<string>((r) => execFile('ps', ['-eo', 'args'], (_e, out) => r(out)));
  t.notOk(ps.includes(token), 'the token is on no command line');

  const status = await dhts(['status', '--temp-dir', headDir]);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /Active:/);
  t.match(status.stdout, /0\.0\/2\.0 CPU/);
  t.match(status.stdout, /0\.0\/2\.0 bigmem/);
  t.match(status.stdout, /Pending Demands:\n \(no resource demands\)/);

  await init({ address: 'auto', tempDir: headDir, logToDriver: false });
  const where = remote<typeof Fx.where>(FIXTURES, 'where');
  const w = await get(where.options({ resources: { bigmem: 1 } }).remote());
  t.ok(w.nodeId);
  await shutdown();

  const pids = [...daemonPids(headDir), ...daemonPids(agentDir)];
  t.equal(pids.length, 2);
  const stopAgent = await dhts(['stop', '--temp-dir', agentDir]);
  t.match(stopAgent.stdout, /Stopped all 1 dhts processes/);
  const stopHead = await dhts(['stop', '--temp-dir', headDir]);
  t.match(stopHead.stdout, /Stopped all 1 dhts processes/);
  t.notOk(existsSync(join(headDir, 'dhts_current_cluster')), 'address file removed');
  for (const pid of pids) t.throws(() => process.kill(pid, 0), 'daemon is gone');
  const none = await dhts(['stop', '--temp-dir', headDir]);
  t.match(none.stdout, /Did not find any active dhts processes/);
});

t.test('clear errors: bad flags, unreachable head, missing address', async (t) => {
  const bad = await dhts(['start', '--head', '--num-cpus', 'lots']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /--num-cpus must be a non-negative number/);
  const badJson = await dhts(['start', '--head', '--resources', '{bigmem']);
  t.match(badJson.stderr, /--resources must be a JSON object/);
  const unknown = await dhts(['start', '--hed']);
  t.match(unknown.stderr, /unknown option '--hed'/);
  const unreachable = await dhts(['start', '--address', '127.0.0.1:1', '--token', 'x', '--temp-dir', join(root, 'u')]);
  t.not(unreachable.code, 0);
  t.match(unreachable.stderr, /cannot reach the head at 127\.0\.0\.1:1/);
  const neither = await dhts(['start', '--temp-dir', join(root, 'n')]);
  t.match(neither.stderr, /--address HOST:PORT is required/);
  const noCluster = await dhts(['status', '--temp-dir', join(root, 'empty')]);
  t.match(noCluster.stderr, /no cluster found/);
});
