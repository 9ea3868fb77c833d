/**
 * ActorPool with Ray's whole method set (ray.util.ActorPool): map, mapUnordered, submit, getNext, getNextUnordered,
 * hasNext, hasFree, popIdle, push. Idle actors are a LIFO stack; work submitted while none is idle waits in FIFO
 * order. An actor whose call failed with ActorDiedError is not returned to the pool.
 */
import { ActorDiedError, GetTimeoutError, InvalidArgumentError } from '../../protocol/index.js';
import { get, wait } from './api.js';
import type { ObjectRef } from './object-ref.js';

export type PoolFn<A, V, R> = (actor: A, value: V) => ObjectRef<R>;

/** Raised by getNext/getNextUnordered when nothing is ready in time (Ray raises TimeoutError). */
export class PoolTimeoutError extends GetTimeoutError {}

export class ActorPool<A, V = unknown, R = unknown> {
  private idle: A[];
  private readonly futureToActor = new Map<ObjectRef<R>, { index: number; actor: A }>();
  private readonly indexToFuture = new Map<number, ObjectRef<R>>();
  private nextTaskIndex = 0;
  private nextReturnIndex = 0;
  private readonly pendingSubmits: { fn: PoolFn<A, V, R>; value: V }[] = [];

  constructor(actors: readonly A[]) {
    this.idle = [...actors];
  }

  submit(fn: PoolFn<A, V, R>, value: V): void {
    if (this.idle.length) {
      const actor = this.idle.pop()!;
      const ref = fn(actor, value);
      const index = this.nextTaskIndex++;
      this.futureToActor.set(ref, { index, actor });
      this.indexToFuture.set(index, ref);
    } else {
      this.pendingSubmits.push({ fn, value });
    }
  }

  hasNext(): boolean {
    return this.futureToActor.size > 0 || this.pendingSubmits.length > 0;
  }

  /** Next result in submission order. */
  async getNext(options: { timeoutMs?: number; ignoreIfTimedOut?: boolean } = {}): Promise<R> {
    if (!this.hasNext()) throw new InvalidArgumentError('getNext(): no more results to get');
    if (this.nextReturnIndex >= this.nextTaskIndex) {
      throw new InvalidArgumentError('getNext(): it is not allowed to call getNext() after getNextUnordered()');
    }
    const ref = this.indexToFuture.get(this.nextReturnIndex)!;
    if (options.timeoutMs !== undefined) {
      const [ready] = await wait([ref], { timeoutMs: options.timeoutMs });
      if (ready.length === 0) {
        if (options.ignoreIfTimedOut) {
          this.indexToFuture.delete(this.nextReturnIndex);
          this.nextReturnIndex++;
          const entry = this.futureToActor.get(ref)!;
          this.futureToActor.delete(ref);
          this.returnActor(entry.actor);
          throw new PoolTimeoutError(`timed out waiting for result; the task ${ref.id} has been ignored`);
        }
        throw new PoolTimeoutError('timed out waiting for result');
      }
    }
    this.indexToFuture.delete(this.nextReturnIndex);
    this.nextReturnIndex++;
    const entry = this.futureToActor.get(ref)!;
    this.futureToActor.delete(ref);
    return this.result(ref, entry.actor);
  }

  /** Whichever result is ready first. */
  async getNextUnordered(options: { timeoutMs?: number; ignoreIfTimedOut?: boolean } = {}): Promise<R> {
    if (!this.hasNext()) throw new InvalidArgumentError('getNextUnordered(): no more results to get');
    const refs = [...this.futureToActor.keys()];
    const [ready] = await wait(refs, { numReturns: 1, timeoutMs: options.timeoutMs });
    if (ready.length === 0) {
      if (options.ignoreIfTimedOut && refs.length) {
        const ref = refs[0]!;
        const entry = this.futureToActor.get(ref)!;
        this.futureToActor.delete(ref);
        this.indexToFuture.delete(entry.index);
        this.returnActor(entry.actor);
        throw new PoolTimeoutError(`timed out waiting for result; the task ${ref.id} has been ignored`);
      }
      throw new PoolTimeoutError('timed out waiting for result');
    }
    const ref = ready[0]!;
    const entry = this.futureToActor.get(ref)!;
    this.futureToActor.delete(ref);
    this.indexToFuture.delete(entry.index);
    this.nextReturnIndex = Math.max(this.nextReturnIndex, entry.index + 1);
    return this.result(ref, entry.actor);
  }

  private async result(ref: ObjectRef<R>, actor: A): Promise<R> {
    let died = false;
    try {
      return await get(ref);
    } catch (error) {
      died = error instanceof ActorDiedError;
      throw error;
    } finally {
      if (!died) this.returnActor(actor);
    }
  }

  private returnActor(actor: A): void {
    this.idle.push(actor);
    if (this.pendingSubmits.length) {
      const { fn, value } = this.pendingSubmits.shift()!;
      this.submit(fn, value);
    }
  }

  /** Drops earlier unread work, then yields results in the order of `values`. */
  async *map(fn: PoolFn<A, V, R>, values: Iterable<V>): AsyncGenerator<R> {
    await this.drainIgnored();
    for (const v of values) this.submit(fn, v);
    while (this.hasNext()) yield await this.getNext();
  }

  /** As map, in completion order. */
  async *mapUnordered(fn: PoolFn<A, V, R>, values: Iterable<V>): AsyncGenerator<R> {
    await this.drainIgnored();
    for (const v of values) this.submit(fn, v);
    while (this.hasNext()) yield await this.getNextUnordered();
  }

  private async drainIgnored(): Promise<void> {
    while (this.hasNext() && this.nextReturnIndex < this.nextTaskIndex) {
      try {
        await this.getNext({ timeoutMs: 0, ignoreIfTimedOut: true });
      } catch {
        /* earlier results are discarded, as Ray's map does */
      }
    }
    // Results gathered with getNextUnordered leave nothing ordered to drain; drop what remains.
    while (this.futureToActor.size) {
      try {
        await this.getNextUnordered({ timeoutMs: 0, ignoreIfTimedOut: true });
      } catch {
        /* discarded */
      }
    }
  }

  hasFree(): boolean {
    return this.idle.length > 0 && this.pendingSubmits.length === 0;
  }

  /** Takes an idle actor out of the pool, or undefined when none is free. */
  popIdle(): A | undefined {
    return this.hasFree() ? this.idle.pop() : undefined;
  }

  /** Adds an actor (it may start a pending submit at once). */
  push(actor: A): void {
    const busy = [...this.futureToActor.values()].some((e) => e.actor === actor);
    if (this.idle.includes(actor) || busy) throw new InvalidArgumentError('Actor already belongs to current ActorPool');
    this.returnActor(actor);
  }
}
