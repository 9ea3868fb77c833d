// kill -9 of a running search at random moments, then resume: nothing finished is lost or run again.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../../client/search/index.js';
import { readJournal } from '../../client/search/journal.js';

const CHILD = fileURLToPath(new URL('./fixtures/resume-child.js', import.meta.url));
const MAX_EVALS = 40;

function doneCount(dir: string): number {
  const path = join(dir, 'journal.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').split('"t":"done"').length - 1 : 0;
}

/** Run the child; with `kill`, SIGKILL it `jitterMs` after the journal holds `afterDone` finished evaluations. */
function run(dir: string, resume: boolean, kill?: { afterDone: number; jitterMs: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(MAX_EVALS), resume ? '1' : '0', '11'], { stdio: ['ignore', 'ignore', 'inherit'] });
    let poll: NodeJS.Timeout | undefined;
    if (kill) {
      poll = setInterval(() => {
        if (doneCount(dir) < kill.afterDone) return;
        clearInterval(poll);
        setTimeout(() => child.kill('SIGKILL'), kill.jitterMs);
      }, 2);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    });
  });
}

function traceLines(dir: string): string[] {
  const path = join(dir, 'trace.log');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

// Seeded kill delays, so that a failure can be replayed.
let seed = 12345;
let midSearchKills = 0;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

for (let round = 0; round < 4; round++) {
  t.test(`round ${round}: kills at random moments of a search and of its resumes, then a resume to the end`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dhts-resume-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const kills: { doneIds: Set<string>; objectives: Map<string, unknown>; mark: number }[] = [];
    for (let kill = 0; kill < 3; kill++) {
      const afterDone = doneCount(dir) + 1 + Math.floor(random() * 12);
      const delay = Math.floor(random() * 30);
      const exit = await run(dir, kill > 0, { afterDone, jitterMs: delay });
      if (exit.signal !== 'SIGKILL') break; // the search finished before the kill
      const finished = readJournal(join(dir, 'journal.jsonl')).state.finished;
      if (finished.length > 0 && finished.length < MAX_EVALS) midSearchKills++;
      t.comment(`killed ${delay} ms after ${afterDone} done, with ${finished.length} evaluations finished`);
      kills.push({ doneIds: new Set(finished.map((r) => r.id)), objectives: new Map(finished.map((r) => [r.id, r.objective])), mark: traceLines(dir).length });
    }
    const final = await run(dir, true);
    t.equal(final.code, 0);
    const trace = traceLines(dir);
    const after = new Map(readJournal(join(dir, 'journal.jsonl')).state.finished.map((r) => [r.id, r.objective]));
    for (const k of kills) {
      const rerun = trace.slice(k.mark).filter((l) => l.startsWith('start ')).map((l) => l.slice(6)).filter((id) => k.doneIds.has(id));
      t.same(rerun, [], `no evaluation finished before the kill ran again (${k.doneIds.size} finished)`);
      const lost = [...k.objectives].filter(([id, objective]) => after.get(id) !== objective).map(([id]) => id);
      t.same(lost, [], 'no evaluation finished before the kill was lost');
    }
    const state = readJournal(join(dir, 'journal.jsonl')).state;
    t.equal(state.finished.length, MAX_EVALS);
    t.equal(new Set(state.finished.map((r) => r.id)).size, MAX_EVALS, 'ids unique');
    t.equal(state.interrupted.length, 0);
    const rows = parseCsv(readFileSync(join(dir, 'results.csv'), 'utf8')).slice(1);
    t.equal(rows.length, MAX_EVALS);
    t.equal(new Set(rows.map((r) => r[3])).size, MAX_EVALS);
  });
}

t.test('the kills above landed in the middle of searches', async (t) => {
  t.ok(midSearchKills >= 8, `${midSearchKills} kills with some but not all evaluations finished`);
});
