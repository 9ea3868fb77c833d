// Command objectives: any program as a run function. `{name}` in the template becomes the shell-quoted value of
// hyperparameter `name`; stdout gives the objective (last numeric line or {"objective": ...}) and intermediate
// values ({"step": s, "objective": v}). Commands run in their own process group so that a stop or a timeout
// (SIGTERM, then SIGKILL after a grace period) reaches every process they started.
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { Objective } from '../hpo/types.js';
import { registerChildProcess } from './job.js';
import { renderCommand } from './template.js';
import { killGroup, TIMEOUT_CODE } from './pool.js';
import type { CommandSpec, RunningJob } from './types.js';

export { parseCommandTemplate, commandPlaceholders, shellQuote, renderCommand } from './template.js';

/** What one stdout line means. */
export type StdoutLine =
  | { kind: 'step'; step: number; objective: number }
  | { kind: 'objective'; objective: Objective | string; metadata: Record<string, unknown> }
  | { kind: 'number'; value: number }
  | { kind: 'failure'; failure: string }
  | { kind: 'other' };

export function classifyLine(line: string): StdoutLine {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { kind: 'other' };
    }
    if (typeof parsed !== 'object' || parsed === null || !('objective' in parsed)) return { kind: 'other' };
    const { objective, step, ...rest } = parsed as Record<string, unknown>;
    if (step !== undefined) {
      if (typeof step === 'number' && typeof objective === 'number') return { kind: 'step', step, objective };
      return { kind: 'other' };
    }
    const meta = typeof rest.metadata === 'object' && rest.metadata !== null ? { ...(rest.metadata as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(rest)) if (k !== 'metadata') meta[k] = v;
    if (typeof objective === 'number' || typeof objective === 'string' || (Array.isArray(objective) && objective.every((v) => typeof v === 'number'))) {
      return { kind: 'objective', objective: objective as Objective | string, metadata: meta };
    }
    return { kind: 'other' };
  }
  if (trimmed !== '' && Number.isFinite(Number(trimmed))) return { kind: 'number', value: Number(trimmed) };
  // DeepHyper's failure convention: "F" or "F_reason" as the whole line.
  if (/^F(_\w+)?$/.test(trimmed)) return { kind: 'failure', failure: trimmed };
  return { kind: 'other' };
}

function signed(objective: Objective | string, sign: number): Objective | string {
  if (sign === 1 || typeof objective === 'string') return objective;
  return Array.isArray(objective) ? objective.map((v) => sign * v) : sign * objective;
}

class CommandFailure extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CommandFailure';
    this.code = code;
  }
}

const STDERR_TAIL = 10;

/** Arguments of the built-in run function of command objectives. */
export interface CommandRunArgs extends CommandSpec {
  /** The command's own time limit; on expiry it is terminated and recorded as timed out (with its stderr). */
  timeoutMs?: number;
}

/**
 * The run function of command objectives (usable in every backend: `Evaluator.create({ command })` points the
 * backend at this export).
 */
export async function runCommandObjective(job: RunningJob, args: CommandRunArgs): Promise<{ objective: Objective | string; metadata: Record<string, unknown> }> {
  const commandLine = renderCommand(args.command, job.parameters);
  const sign = args.direction === 'minimize' ? -1 : 1;
  const grace = args.killGraceMs ?? 2000;
  const subprocess = execa(commandLine, {
    shell: true,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    cleanup: false,
    forceKillAfterDelay: false,
    cwd: args.cwd,
    env: { ...args.env, DEEPHYPER_JOB_ID: job.id },
  });
  const pid = subprocess.pid;
  if (pid !== undefined) registerChildProcess(job, pid);

  let terminatedBy: 'stop' | 'timeout' | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const terminate = (why: 'stop' | 'timeout') => {
    if (terminatedBy || pid === undefined) return;
    terminatedBy = why;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
  };
  const onAbort = () => terminate('stop');
  if (job.signal.aborted) onAbort();
  else job.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutTimer = args.timeoutMs !== undefined ? setTimeout(() => terminate('timeout'), args.timeoutMs) : undefined;

  const stderrTail: string[] = [];
  let final: { objective: Objective | string; metadata: Record<string, unknown> } | undefined;
  let lastLine: StdoutLine = { kind: 'other' };
  const records: Promise<void>[] = [];
  const readStdout = (async () => {
    if (!subprocess.stdout) return;
    for await (const line of createInterface({ input: subprocess.stdout, crlfDelay: Infinity })) {
      if (line.trim() === '') continue;
      const c = classifyLine(line);
      lastLine = c;
      if (c.kind === 'step') records.push(job.record(c.step, sign * c.objective));
      else if (c.kind === 'objective') final = { objective: signed(c.objective, sign), metadata: c.metadata };
    }
  })();
  const readStderr = (async () => {
    if (!subprocess.stderr) return;
    for await (const line of createInterface({ input: subprocess.stderr, crlfDelay: Infinity })) {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    }
  })();
  const result = await subprocess;
  await Promise.all([readStdout, readStderr]);
  await Promise.all(records);
  clearTimeout(timeoutTimer);
  clearTimeout(killTimer);
  job.signal.removeEventListener('abort', onAbort);
  // The shell may be gone while processes it started still hold the group: finish them off.
  if (pid !== undefined) killGroup(pid, 'SIGKILL');

  const tail = stderrTail.length > 0 ? `\n${stderrTail.join('\n')}` : '';
  if (terminatedBy === 'timeout') throw new CommandFailure(TIMEOUT_CODE, `command timed out after ${args.timeoutMs} ms: ${commandLine}${tail}`);
  const last = lastLine as StdoutLine;
  const objective =
    last.kind === 'number'
      ? { objective: sign * last.value, metadata: final?.metadata ?? {} }
      : last.kind === 'failure'
        ? { objective: last.failure, metadata: {} }
        : final;
  if (terminatedBy === 'stop') {
    // Stopped by the search: its objective is the last value it recorded (or one it printed on its way out).
    if (objective) return objective;
    if (job.objective !== undefined) return { objective: job.objective, metadata: {} };
    throw new CommandFailure('COMMAND_STOPPED', `command stopped before reporting any value: ${commandLine}${tail}`);
  }
  if (result.exitCode !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new CommandFailure('COMMAND_FAILED', `command ${how}: ${commandLine}${tail}`);
  }
  if (!objective) {
    if (job.objective !== undefined) return { objective: job.objective, metadata: {} };
    throw new CommandFailure(
      'COMMAND_NO_OBJECTIVE',
      `command printed no objective (the last stdout line must be a number or {"objective": ...}): ${commandLine}${tail}`,
    );
  }
  return objective;
}
