// `dhts search --address`: the search runs as a detached actor of the cluster; list, attach and stop reach it
// from other processes.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, withCluster } from '../helpers/cluster.js';
import { parseCsv } from '../../client/search/index.js';
import { readJournal } from '../../client/search/journal.js';

t.test('a search as a detached cluster actor', async (t) => {
  const cluster = await withCluster(t, { agents: [{ numCpus: 3 }], connect: false });
  const dir = mkdtempSync(join(tmpdir(), 'dhts-csearch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'space.yaml'), 'x: [0.0, 1.0]\n');
  const env = { ...process.env, DHTS_TOKEN: cluster.token, NODE_OPTIONS: '' };
  const dhts = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'search', ...args], { cwd: dir, env, timeout: 60_000 }, (error, out, err) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err });
      });
    });

  const started = await dhts('--space', 'space.yaml', '--max-evals', '6', '--workers', '2', '--name', 'quick', '--address', cluster.address, '--detach', '--', 'sleep 0.1; echo {x}');
  t.equal(started.code, 0, started.err);
  const id = started.out.trim();
  t.match(id, /^quick-/);
  const attached = await dhts('attach', id, '--address', cluster.address);
  t.equal(attached.code, 0, attached.err);
  t.match(attached.err, /6\/6 done/);
  t.match(attached.out, /best objective [\d.]+/);
  const rows = parseCsv(readFileSync(join(dir, 'runs', 'quick', 'results.csv'), 'utf8'));
  t.equal(rows.length, 7, 'results on the cluster node disk (here: the same host)');

  const slow = await dhts('--space', 'space.yaml', '--max-evals', '100', '--workers', '2', '--name', 'slow', '--address', cluster.address, '--detach', '--', 'sleep 0.3; echo {x}');
  t.equal(slow.code, 0, slow.err);
  const slowId = slow.out.trim();
  await new Promise((r) => setTimeout(r, 1500));
  const listed = await dhts('list', '--address', cluster.address);
  t.match(listed.out, new RegExp(`${id}\\tdone\\t6/6 done`));
  t.match(listed.out, new RegExp(`${slowId}\\trunning`));
  const stopped = await dhts('stop', slowId, '--address', cluster.address);
  t.equal(stopped.code, 0, stopped.err);
  t.match(stopped.err, /stopped: stopped/);
  const journal = readJournal(join(dir, 'runs', 'slow', 'journal.jsonl')).state;
  t.ok(journal.finished.length > 0 && journal.finished.length < 100, `${journal.finished.length} evaluations before the stop`);
  const missing = await dhts('stop', 'nope', '--address', cluster.address);
  t.equal(missing.code, 2);
  t.match(missing.err, /no running search nope/);
});
