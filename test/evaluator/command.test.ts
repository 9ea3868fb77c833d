// Command objectives in all their forms, in several backends.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Evaluator, renderCommand, shellQuote, commandPlaceholders, classifyLine, type EvaluatorMethod, type JobResult } from '../../client/evaluator/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dhts-cmd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function runCommand(
  command: string,
  parameters: Record<string, number | string> = {},
  options: { method?: EvaluatorMethod; timeoutMs?: number; stopAtStep?: number; killGraceMs?: number } = {},
): Promise<{ result: JobResult; elapsed: number }> {
  const evaluator = await Evaluator.create({ command, cwd: dir }, { method: options.method ?? 'serial', timeoutMs: options.timeoutMs, killGraceMs: options.killGraceMs ?? 300, execArgv: [] });
  try {
    if (options.stopAtStep !== undefined) {
      const at = options.stopAtStep;
      evaluator.setStopHandler((_id, step) => ({ stop: step >= at, reason: 'test' }));
    }
    const start = Date.now();
    evaluator.submit([{ id: '0', parameters }]);
    const [result] = await evaluator.gather();
    return { result: result!, elapsed: Date.now() - start };
  } finally {
    await evaluator.close();
  }
}

/** Alive and not a zombie (an orphan whose reaper has not collected it yet is dead for our purpose). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('templates: placeholders, escapes and shell quoting', async (t) => {
  t.same(commandPlaceholders('python train.py --lr {lr} --units {units} --lr2 {lr}'), ['lr', 'units']);
  t.equal(renderCommand('run --x {x} --name {name}', { x: 1e-7, name: "it's a $HOME" }), `run --x 1e-7 --name 'it'\\''s a $HOME'`);
  t.equal(renderCommand('echo {{"a": {x}}}', { x: 2 }), 'echo {"a": 2}');
  t.equal(shellQuote('relu'), 'relu');
  t.equal(shellQuote(''), "''");
  t.throws(() => renderCommand('echo {x', { x: 1 }), { code: 'COMMAND_BAD_TEMPLATE', message: /column 6/ });
  t.throws(() => renderCommand('echo {1x}', { x: 1 }), { code: 'COMMAND_BAD_TEMPLATE' });
  t.throws(() => renderCommand('echo x}', { x: 1 }), /unmatched "}"/);
  t.throws(() => renderCommand('echo {y}', { x: 1 }), /\{y\} names no hyperparameter/);
  await t.rejects(Evaluator.create({ command: '' }), { code: 'COMMAND_BAD_TEMPLATE' });
  await t.rejects(Evaluator.create({ command: 'train --lr {lr' }), { code: 'COMMAND_BAD_TEMPLATE' });
  // A value with every awkward character reaches the program unchanged.
  const awkward = `a b'c"d$e;f|g*h\\i`;
  const { result } = await runCommand('printf "%s" {s} > value.txt; echo 1', { s: awkward });
  t.equal(result.objective, 1);
  t.equal(readFileSync(join(dir, 'value.txt'), 'utf8'), awkward);
});

t.test('stdout lines: numbers, objective objects, step lines', async (t) => {
  t.same(classifyLine('0.25'), { kind: 'number', value: 0.25 });
  t.same(classifyLine('{"step": 3, "objective": 0.5}'), { kind: 'step', step: 3, objective: 0.5 });
  t.same(classifyLine('{"objective": [1, 2], "acc": 0.9}'), { kind: 'objective', objective: [1, 2], metadata: { acc: 0.9 } });
  t.same(classifyLine('epoch 3 loss 0.2'), { kind: 'other' });
  t.same(classifyLine('{"loss": 1}'), { kind: 'other' });
});

t.test('objective forms', async (t) => {
  t.equal((await runCommand('echo training; echo {x}', { x: 0.75 })).result.objective, 0.75);
  const json = (await runCommand('echo \'{{"objective": 2.5, "acc": 0.9, "metadata": {{"epochs": 3}}}}\'')).result;
  t.equal(json.objective, 2.5);
  t.same(json.metadata, { acc: 0.9, epochs: 3 });
  t.same((await runCommand('echo \'{{"objective": [1, -2]}}\'')).result.objective, [1, -2]);
  t.equal((await runCommand('echo F_diverged')).result.failure, 'F_diverged');
  const steps = (await runCommand('for i in 1 2 3; do echo "{{\\"step\\": $i, \\"objective\\": 0.$i}}"; done; echo 0.35')).result;
  t.equal(steps.objective, 0.35);
  t.equal(steps.budget, 3);
  const lastStep = (await runCommand('for i in 1 2; do echo "{{\\"step\\": $i, \\"objective\\": $i}}"; done')).result;
  t.equal(lastStep.objective, 2, 'no final line: the last recorded value');
});

t.test('failures keep the last lines of stderr', async (t) => {
  const exit = (await runCommand('for i in $(seq 1 15); do echo "line $i" >&2; done; exit 3')).result;
  t.equal(exit.status, 'FAILED');
  t.equal(exit.objective, null);
  t.match(exit.error, /exited with code 3/);
  t.match(exit.error, /line 15$/);
  t.notMatch(exit.error, /line 5\n/, 'only the tail');
  const none = (await runCommand('echo no number here')).result;
  t.equal(none.status, 'FAILED');
  t.match(none.error, /printed no objective/);
  const missing = (await runCommand('definitely-not-a-command-xyz --flag')).result;
  t.match(missing.error, /exited with code 127[\s\S]*not found/);
});

t.test('timeout: SIGTERM to the whole process group, recorded CANCELLED with stderr', async (t) => {
  const { result, elapsed } = await runCommand('echo started >&2; sleep 30 & echo $! > bg.pid; wait', {}, { timeoutMs: 400 });
  t.equal(result.status, 'CANCELLED');
  t.match(result.error, /timed out after 400 ms[\s\S]*started/);
  t.ok(elapsed < 3000, `${elapsed} ms`);
  const bg = Number(readFileSync(join(dir, 'bg.pid'), 'utf8'));
  t.notOk(alive(bg), 'the background child is gone too');
});

for (const method of ['serial', 'thread', 'process'] as EvaluatorMethod[]) {
  t.test(`${method}: a stopped command gets SIGTERM; its last recorded value is its objective`, async (t) => {
    const script = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "{{\\"step\\": $i, \\"objective\\": $i}}"; sleep 0.1; done; echo 99';
    const { result } = await runCommand(script, {}, { method, stopAtStep: 2 });
    t.equal(result.stopped, true);
    t.equal(result.budget, 2);
    t.equal(result.objective, 2);
    // Running to the end would take 1 s (start of the worker itself excluded).
    const ran = result.timestamps.end - result.timestamps.start;
    t.ok(ran < 900, `${ran} ms`);
  });
}

t.test('a command that ignores SIGTERM gets SIGKILL after the grace period', async (t) => {
  const script = `trap '' TERM; echo '{{"step": 1, "objective": 4}}'; while :; do sleep 0.05; done`;
  const { result, elapsed } = await runCommand(script, {}, { stopAtStep: 1, killGraceMs: 300 });
  t.equal(result.stopped, true);
  t.equal(result.objective, 4);
  t.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
});
