// `dhts search` run in-process through commander: results, resume, and clear errors for bad input.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { registerSearchCommand, templateFromArgv } from '../../daemon/cli/search.js';
import { parseCsv } from '../../client/search/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dhts-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const space = join(dir, 'space.yaml');
writeFileSync(space, 'x: [0.0, 10.0]\nact: [relu, tanh]\n');

async function dhts(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: (s) => (out += s) });
  registerSearchCommand(program, { stdout, stderr });
  let code = 0;
  try {
    await program.parseAsync(['node', 'dhts', 'search', ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  } finally {
    process.exitCode = 0;
  }
  return { code, out, err };
}

t.test('argv tokens become a shell template: literals quoted, placeholders kept', async (t) => {
  t.equal(templateFromArgv(['python', 'train.py', '--lr={lr}', 'my file']), `python train.py --lr={lr} 'my file'`);
  t.equal(templateFromArgv(['python train.py --lr {lr} | tee log']), 'python train.py --lr {lr} | tee log');
});

t.test('a search over a command writes results and prints the best configuration', async (t) => {
  const logDir = join(dir, 'run1');
  const r = await dhts('--space', space, '--max-evals', '8', '--workers', '2', '--seed', '1', '--log-dir', logDir, '--', 'echo', '{x}');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /best objective [\d.]+ \(job \d+\)\nbest configuration \{.*"x":/);
  t.match(r.err, /8\/8 done, 0 running, 0 failed, best/);
  const rows = parseCsv(readFileSync(join(logDir, 'results.csv'), 'utf8'));
  t.same([...rows[0]!.slice(0, 2)].sort(), ['p:act', 'p:x']);
  t.same(rows[0]!.slice(2, 5), ['objective', 'job_id', 'job_status']);
  t.equal(rows.length, 9);
  for (const row of rows.slice(1)) t.equal(Number(row[rows[0]!.indexOf('objective')]), Number(row[rows[0]!.indexOf('p:x')]));
  // Resume with a larger budget: the 8 finished evaluations are kept, 4 more run.
  const again = await dhts('--space', space, '--max-evals', '12', '--workers', '2', '--log-dir', logDir, '--resume', '--', 'echo', '{x}');
  t.equal(again.code, 0, again.err);
  t.equal(parseCsv(readFileSync(join(logDir, 'results.csv'), 'utf8')).length, 13);
});

t.test('--direction minimize: the printed objective is minimized', async (t) => {
  const logDir = join(dir, 'run2');
  const r = await dhts('--space', space, '--max-evals', '6', '--seed', '2', '--direction', 'minimize', '--log-dir', logDir, '--', 'echo', '{x}');
  t.equal(r.code, 0, r.err);
  const rows = parseCsv(readFileSync(join(logDir, 'results.csv'), 'utf8'));
  const xs = rows.slice(1).map((row) => Number(row[rows[0]!.indexOf('p:x')]));
  const printed = Number(/best minimized objective ([\d.e-]+)/.exec(r.out)![1]);
  t.equal(printed, Math.min(...xs));
});

t.test('a stopper reads {"step", "objective"} lines', async (t) => {
  const logDir = join(dir, 'run3');
  const script = `for i in 1 2 3 4 5 6; do echo "{{\\"step\\": $i, \\"objective\\": $i}}"; done`;
  const r = await dhts('--space', space, '--max-evals', '4', '--stopper', 'constant', '--max-steps', '6', '--stop-step', '2', '--log-dir', logDir, '--', script);
  t.equal(r.code, 0, r.err);
  const rows = parseCsv(readFileSync(join(logDir, 'results.csv'), 'utf8'));
  const col = (name: string) => rows[0]!.indexOf(name);
  for (const row of rows.slice(1)) {
    t.equal(row[col('m:budget')], '2');
    t.equal(row[col('m:stopped')], 'True');
    t.equal(row[col('objective')], '2');
  }
});

t.test('clear errors', async (t) => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'x: [0.0, 10.0]\ny: {low: 1}\n');
  let r = await dhts('--space', bad, '--', 'echo', '{x}');
  t.equal(r.code, 2);
  t.match(r.err, /bad\.yaml:2: field "y/);
  r = await dhts('--space', join(dir, 'missing.yaml'), '--', 'echo', '{x}');
  t.equal(r.code, 2);
  t.match(r.err, /missing\.yaml: cannot read/);
  r = await dhts('--space', space, '--', 'echo', '{lr}');
  t.equal(r.code, 2);
  t.match(r.err, /uses \{lr\} but .*space\.yaml defines only: /);
  r = await dhts('--space', space, '--', 'echo', '{x');
  t.equal(r.code, 2);
  t.match(r.err, /not a \{name\} placeholder/);
  r = await dhts('--space', space, '--stopper', 'sha', '--', 'echo', '{x}');
  t.equal(r.code, 2);
  t.match(r.err, /needs --max-steps/);
  r = await dhts('--space', space, '--max-evals', '0', '--', 'echo', '{x}');
  t.not(r.code, 0);
  t.match(r.err, /--max-evals must be a positive integer/);
  r = await dhts('--space', space);
  t.equal(r.code, 2);
  t.match(r.err, /give the command to evaluate after --/);
  r = await dhts('--space', space, '--max-evals', '3', '--log-dir', join(dir, 'run4'), '--', 'sh', '-c', 'echo cannot open data >&2; exit 1');
  t.equal(r.code, 1);
  t.match(r.err, /every evaluation failed; the last one: command exited with code 1[\s\S]*cannot open data/);
});

t.test('--help documents every flag', async (t) => {
  const r = await dhts('--help');
  for (const flag of ['--space', '--max-evals', '--workers', '--log-dir', '--seed', '--resume', '--timeout', '--direction', '--address', '--stopper', '--max-steps']) {
    t.match(r.out, flag);
  }
});
