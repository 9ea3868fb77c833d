// A search running as a detached, named actor of the cluster (`dhts search --address ...`): the terminal that
// started it can go away. Its status is published in the cluster's KV store under dhts-search/<id>, which
// `dhts search list | attach` read; `stop()` ends it like a Ctrl-C (journal intact, resumable).
import { hostname } from 'node:os';
import { kvPut } from '../index.js';
import type { SearchProgress } from './callbacks.js';
import { runCommandSearch, type CommandSearchSpec } from './command-search.js';

export const SEARCH_KV_PREFIX = 'dhts-search/';
export const searchActorName = (id: string) => `dhts-search-${id}`;

export interface SearchStatus {
  id: string;
  name: string;
  state: 'running' | 'done' | 'failed' | 'stopped';
  progress: SearchProgress;
  logDir: string;
  host: string;
  startedAt: number;
  endedAt?: number;
  reason?: string;
  best?: { id: string; parameters: Record<string, unknown>; objective: number | number[] };
  error?: string;
}

export class SearchActor {
  private status: SearchStatus | undefined;
  private readonly abort = new AbortController();
  private lastPublish = 0;

  /** Start the search in the background; returns once its first status is published. */
  async start(id: string, spec: CommandSearchSpec): Promise<SearchStatus> {
    if (this.status) throw new Error(`search ${this.status.id} already started in this actor`);
    const progress: SearchProgress = { done: 0, failed: 0, running: 0, maxEvals: spec.maxEvals, best: undefined, elapsedMs: 0 };
    this.status = { id, name: spec.name, state: 'running', progress, logDir: spec.logDir, host: hostname(), startedAt: Date.now() };
    await this.publish(true);
    void this.run(spec);
    return this.status;
  }

  private async run(spec: CommandSearchSpec): Promise<void> {
    const status = this.status!;
    const sign = spec.direction === 'minimize' ? -1 : 1;
    try {
      const results = await runCommandSearch(spec, {
        signal: this.abort.signal,
        callbacks: [
          {
            onGather: (_r, p) => {
              status.progress = { ...p, best: p.best === undefined ? undefined : sign * p.best };
              void this.publish(false);
            },
            onEnd: (p) => {
              status.progress = { ...p, best: p.best === undefined ? undefined : sign * p.best };
            },
          },
        ],
      });
      const best = results.best();
      if (best) status.best = { ...best, objective: Array.isArray(best.objective) ? best.objective.map((v) => sign * v) : sign * best.objective };
      status.reason = results.reason;
      status.state = this.abort.signal.aborted ? 'stopped' : 'done';
    } catch (err) {
      status.state = 'failed';
      status.error = (err as Error).message;
    }
    status.endedAt = Date.now();
    await this.publish(true);
  }

  private async publish(force: boolean): Promise<void> {
    if (!this.status) return;
    if (!force && Date.now() - this.lastPublish < 500) return;
    this.lastPublish = Date.now();
    await kvPut(SEARCH_KV_PREFIX + this.status.id, JSON.stringify(this.status)).catch(() => undefined);
  }

  getStatus(): SearchStatus | undefined {
    return this.status;
  }

  /** End the search: running evaluations are stopped, the journal stays resumable. */
  stop(): boolean {
    this.abort.abort();
    return true;
  }
}
