/**
 * Garbage collection on demand, for the put pool. A large put's buffer returns to the pool only when V8 finds its
 * refs dead, which only a full GC does, and V8 starts one late (after several fresh large allocations): meanwhile
 * puts copy into fresh memory, several times slower than into a recycled buffer. When the pool runs low while large
 * put values are still outstanding, the runtime asks for a collection here; it runs on a later macrotask (the
 * FinalizationRegistry callbacks that free the values run after it), only when it costs less than the copies it may
 * save, and backs off while collections free nothing. Ray does the like: its raylet has workers run gc.collect() when
 * the object store fills.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

/** Fresh pages copy at roughly 2 GB/s here (bench:micro): a collection is worth it when it takes less than this. */
const FRESH_COPY_BYTES_PER_MS = 2e6;
const MAX_BACKOFF = 64;

let gcFn: Gc | null | undefined;
let scheduled = false;
/** Estimated duration of one full collection (ms), from the last ones. */
let gcMs = 5;
/** Requests to skip before the next collection (grows while collections free nothing). */
let skip = 0;
let backoff = 1;
let freedSinceGc = 0;
let expectingYield = false;
let collections = 0;

/** How many collections this process ran for the put pool (tests and diagnostics). */
export function collectionCount(): number {
  return collections;
}

/**
 * V8's full collection, or null where it cannot be had: from `--expose-gc` when the process has it, else exposed in a
 * fresh context only, the flag restored at once so later contexts do not see it (as jest does).
 */
export function fullGc(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as Gc;
    setFlagsFromString('--no-expose-gc');
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** The pool got a buffer back (a freed put): evidence that collections pay. */
export function noteBufferFreed(): void {
  freedSinceGc++;
}

/**
 * Asks for a full collection soon, because `reclaimableBytes` of put values may be dead and the pool is low.
 * Cheap to call on every large put.
 */
export function requestCollection(reclaimableBytes: number): void {
  if (scheduled) return;
  if (gcMs > reclaimableBytes / FRESH_COPY_BYTES_PER_MS) return;
  if (skip > 0) {
    skip--;
    return;
  }
  const gc = fullGc();
  if (!gc) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    if (expectingYield) {
      // The previous collection freed nothing: the values are still in use. Ask less often, up to a limit.
      if (freedSinceGc === 0) {
        backoff = Math.min(MAX_BACKOFF, backoff * 2);
        skip = backoff;
        expectingYield = false;
        return;
      }
      backoff = 1;
    }
    const t = performance.now();
    gc();
    collections++;
    gcMs = 0.5 * gcMs + 0.5 * (performance.now() - t);
    freedSinceGc = 0;
    expectingYield = true;
  }).unref();
}
