// Callbacks of the search loop: a progress line (bar on a TTY, plain lines otherwise) and early stopping of the
// search after N evaluations without improvement (DeepHyper's SearchEarlyStopping).
import type { Writable } from 'node:stream';
import type { JobResult } from '../evaluator/types.js';
import { objectiveScore } from './results.js';

/** Live counters of a search, handed to every callback. */
export interface SearchProgress {
  done: number;
  failed: number;
  running: number;
  maxEvals: number;
  /** Best single objective so far (or the Pareto front size for several objectives). */
  best: number | undefined;
  elapsedMs: number;
}

export interface SearchCallback {
  onStart?(progress: SearchProgress): void;
  /** After each batch of finished evaluations; return a reason string to stop the search. */
  onGather?(results: readonly JobResult[], progress: SearchProgress): string | void;
  onEnd?(progress: SearchProgress, reason: string): void;
}

/** Stop the search after `patience` evaluations in a row that do not improve the best objective. */
export class SearchEarlyStopping implements SearchCallback {
  readonly patience: number;
  readonly threshold: number | undefined;
  private best = -Infinity;
  private sinceImprovement = 0;

  constructor(options: { patience?: number; threshold?: number } = {}) {
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold;
  }

  onGather(results: readonly JobResult[]): string | void {
    for (const r of results) {
      const value = objectiveScore(r.objective);
      if (value !== undefined && value > this.best) {
        this.best = value;
        this.sinceImprovement = 0;
      } else {
        this.sinceImprovement++;
      }
    }
    const armed = this.threshold === undefined || this.best > this.threshold;
    if (armed && this.sinceImprovement >= this.patience) return 'early-stopping';
  }
}

/** Render one progress line: "12/100 done, 4 running, 1 failed, best 0.9312, 00:42". */
export function formatProgress(p: SearchProgress): string {
  const total = p.maxEvals > 0 ? `/${p.maxEvals}` : '';
  const best = p.best === undefined ? '-' : Number(p.best.toPrecision(6)).toString();
  return `${p.done}${total} done, ${p.running} running, ${p.failed} failed, best ${best}, ${formatDuration(p.elapsedMs)}`;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}` : `${p(Math.floor(s / 60))}:${p(s % 60)}`;
}

/** A progress bar redrawn in place on a TTY; on a pipe or file, one plain line at most every `intervalMs`. */
export class ProgressCallback implements SearchCallback {
  private readonly out: Writable & { isTTY?: boolean; columns?: number };
  private readonly intervalMs: number;
  private lastPrint = 0;
  private lastLine = '';

  constructor(options: { stream?: Writable & { isTTY?: boolean; columns?: number }; intervalMs?: number } = {}) {
    this.out = options.stream ?? process.stderr;
    this.intervalMs = options.intervalMs ?? 2000;
  }

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  onStart(p: SearchProgress): void {
    this.print(p, true);
  }

  onGather(_results: readonly JobResult[], p: SearchProgress): void {
    this.print(p, false);
  }

  onEnd(p: SearchProgress, reason: string): void {
    this.print(p, true);
    if (this.tty) this.out.write('\n');
    this.out.write(`search ended: ${reason}\n`);
  }

  private print(p: SearchProgress, force: boolean): void {
    const now = Date.now();
    if (!this.tty && !force && now - this.lastPrint < this.intervalMs) return;
    this.lastPrint = now;
    const line = formatProgress(p);
    if (!this.tty) {
      // The final forced print repeats the last line when nothing changed since: skip it.
      if (line !== this.lastLine) this.out.write(line + '\n');
      this.lastLine = line;
      return;
    }
    const width = 24;
    const filled = p.maxEvals > 0 ? Math.min(width, Math.round((width * p.done) / p.maxEvals)) : 0;
    const bar = p.maxEvals > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    this.out.write(`\r\x1b[K${bar}${line}`);
  }
}
