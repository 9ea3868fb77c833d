// Append-only journal of a search (JSON lines): the single source of truth for resume. A finished evaluation is
// written and fsync'd before the search counts it, so a kill -9 at any moment loses nothing that was counted.
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../hpo/types.js';
import type { JobResult } from '../evaluator/types.js';
import { SearchError } from './errors.js';

export const JOURNAL_FILE = 'journal.jsonl';

export type JournalRecord =
  | { t: 'start'; version: 1; startedAt: number; hyperparameters?: string[] }
  | { t: 'submit'; id: string; parameters: Config; at: number }
  | { t: 'done'; result: JobResult };

/** What an existing journal tells a resumed search. */
export interface JournalState {
  startedAt: number;
  hyperparameters?: string[];
  /** Finished evaluations, in the order they were gathered. */
  finished: JobResult[];
  /** Evaluations submitted but never finished (running when the search died), in submission order. */
  interrupted: { id: string; parameters: Config }[];
  /** Largest numeric job id seen, -1 when none. */
  lastId: number;
}

export class Journal {
  private fd: number;
  readonly path: string;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /**
   * Open the journal of `logDir`. With `resume`, an existing journal is read back (a torn last line from a crash is
   * cut off) and appended to; without it, an existing journal is moved aside as journal_<stamp>.jsonl.
   */
  static open(logDir: string, resume: boolean, hyperparameters?: string[]): { journal: Journal; state: JournalState } {
    mkdirSync(logDir, { recursive: true });
    const path = join(logDir, JOURNAL_FILE);
    if (existsSync(path) && resume) {
      const { state, validBytes } = readJournal(path);
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, validBytes);
      closeSync(fd);
      return { journal: new Journal(path, openSync(path, 'a')), state };
    }
    if (existsSync(path)) renameSync(path, join(logDir, `journal_${timestamp()}.jsonl`));
    const journal = new Journal(path, openSync(path, 'a'));
    const startedAt = Date.now();
    journal.append({ t: 'start', version: 1, startedAt, ...(hyperparameters ? { hyperparameters } : {}) }, true);
    return { journal, state: { startedAt, hyperparameters, finished: [], interrupted: [], lastId: -1 } };
  }

  /** Append records; `durable` fsyncs before returning. */
  append(record: JournalRecord | JournalRecord[], durable: boolean): void {
    const records = Array.isArray(record) ? record : [record];
    if (records.length === 0) return;
    writeSync(this.fd, records.map((r) => JSON.stringify(r) + '\n').join(''));
    if (durable) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Read a journal; every complete line must parse, except a torn last line (no newline) left by a crash. */
export function readJournal(path: string): { state: JournalState; validBytes: number } {
  const text = readFileSync(path, 'utf8');
  const lastNewline = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNewline + 1);
  const state: JournalState = { startedAt: 0, finished: [], interrupted: [], lastId: -1 };
  const submitted = new Map<string, Config>();
  const finished = new Set<string>();
  const lines = complete.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch (cause) {
      throw new SearchError('JOURNAL_CORRUPT', `${path}:${i + 1}: not a JSON record; fix or remove that line`, { cause });
    }
    if (record.t === 'start') {
      state.startedAt = record.startedAt;
      state.hyperparameters = record.hyperparameters;
    } else if (record.t === 'submit') {
      submitted.set(record.id, record.parameters);
      state.lastId = Math.max(state.lastId, numericId(record.id));
    } else if (record.t === 'done') {
      if (finished.has(record.result.id)) continue;
      finished.add(record.result.id);
      state.finished.push(record.result);
      state.lastId = Math.max(state.lastId, numericId(record.result.id));
    }
  }
  for (const [id, parameters] of submitted) if (!finished.has(id)) state.interrupted.push({ id, parameters });
  return { state, validBytes: Buffer.byteLength(complete) };
}

function numericId(id: string): number {
  const n = Number(id);
  return Number.isInteger(n) ? n : -1;
}

export function timestamp(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}
