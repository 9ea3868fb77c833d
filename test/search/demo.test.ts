// The demo (npm run demo), shortened: an embedded cluster, CBO + SHA training MLPs, results and an SVG plot.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../../client/search/index.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/main.js', import.meta.url));

t.test('the demo runs end to end and writes results.csv and objective.svg', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dhts-demo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [DEMO], { env: { ...process.env, NODE_OPTIONS: '', DEMO_MAX_EVALS: '6', DEMO_LOG_DIR: dir }, timeout: 120_000 }, (error, stdout) =>
      resolve({ code: error ? 1 : 0, out: stdout }),
    );
  });
  t.equal(code, 0, out);
  t.match(out, /6\/6 done/);
  t.match(out, /best validation accuracy 0\.\d+ \(job \d+\)/);
  t.match(out, /best configuration \{"units":\d+,"layers":\d,"activation":"\w+","lr":[\d.e-]+,"batch_size":\d+\}/);
  const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8'));
  t.equal(rows.length, 7);
  t.ok(rows[0]!.includes('m:budget'));
  t.ok(existsSync(join(dir, 'objective.svg')));
  t.match(readFileSync(join(dir, 'objective.svg'), 'utf8'), /^<svg [\s\S]*<circle [\s\S]*<\/svg>\n$/);
});
