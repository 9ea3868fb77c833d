/** Remote functions and actors of the microbenchmark (imported by workers through this module's URL). */
import { get, remote, type ActorHandle } from '../../client/index.js';

export function small(): number {
  return 0;
}

export class Target {
  calls = 0;
  small(): number {
    this.calls++;
    return 0;
  }
  async smallAsync(): Promise<number> {
    this.calls++;
    return 0;
  }
}

/** A client inside the cluster: submits batches of tasks, or calls its own target actor. */
export class Client {
  private target: ActorHandle<Target> | undefined;
  async tasks(n: number, batch: number): Promise<number> {
    const f = remote<typeof small>(new URL(import.meta.url), 'small');
    for (let done = 0; done < n; done += batch) await get(Array.from({ length: Math.min(batch, n - done) }, () => f.remote()));
    return n;
  }
  async calls(n: number, batch: number): Promise<number> {
    if (!this.target) {
      this.target = remote<typeof Target>(new URL(import.meta.url), 'Target').remote();
    }
    const t = this.target;
    for (let done = 0; done < n; done += batch) await get(Array.from({ length: Math.min(batch, n - done) }, () => t.small.remote()));
    return n;
  }
}
