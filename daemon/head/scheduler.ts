/**
 * The head's scheduler: a pure module (no sockets, no clock). It keeps each node's total and available resources
 *  and decides where a demand goes:
 *  - DEFAULT (Ray's hybrid policy): among the nodes that fit now, the preferred one (the submitter's node) first,
 *    pick the lowest score, where a node's score is its critical-resource utilization, or 0 while that is under
 *    `spreadThreshold` (0.5): pack a node until it is half busy, then spread.
 *  - SPREAD: round robin over the nodes that fit.
 *  - NODE_AFFINITY: that node; when it is dead or can never fit, soft falls back to DEFAULT and hard fails.
 * A demand that fits nowhere now waits; one that no alive node could ever fit is "infeasible" (still waits, as in
 * Ray, and shows in `dhts status`).
 */
import type { Labels, Resources, SchedulingStrategy } from '../../protocol/index.js';

export interface SchedNode {
  readonly nodeId: string;
  /** False when the node is dead or suspected dead: nothing new goes there. */
  schedulable: boolean;
  readonly total: Resources;
  readonly available: Resources;
  readonly labels: Labels;
  /** GPU indices not granted to anyone. */
  freeGpus: number[];
}

export interface Demand {
  resources: Resources;
  strategy: SchedulingStrategy;
  /** Node of the submitter, tried first by DEFAULT. */
  preferredNodeId?: string;
}

export type Placement =
  | { kind: 'node'; nodeId: string }
  | { kind: 'wait'; infeasible: boolean }
  | { kind: 'fail'; reason: string };

const EPS = 1e-9;

export class Scheduler {
  private readonly nodes = new Map<string, SchedNode>();
  private spreadCursor = 0;
  constructor(private readonly spreadThreshold = 0.5) {}

  addNode(nodeId: string, total: Resources, labels: Labels = {}, gpuIds?: number[]): SchedNode {
    const node: SchedNode = {
      nodeId,
      schedulable: true,
      total: { ...total },
      available: { ...total },
      labels: { ...labels },
      freeGpus: gpuIds ? [...gpuIds] : Array.from({ length: Math.floor(total.GPU ?? 0) }, (_, i) => i),
    };
    this.nodes.set(nodeId, node);
    return node;
  }
  removeNode(nodeId: string): void {
    this.nodes.delete(nodeId);
  }
  getNode(nodeId: string): SchedNode | undefined {
    return this.nodes.get(nodeId);
  }
  setSchedulable(nodeId: string, schedulable: boolean): void {
    const n = this.nodes.get(nodeId);
    if (n) n.schedulable = schedulable;
  }
  allNodes(): SchedNode[] {
    return [...this.nodes.values()];
  }

  static fits(have: Resources, want: Resources): boolean {
    for (const k in want) {
      const q = want[k]!;
      if (q > EPS && (have[k] ?? 0) + EPS < q) return false;
    }
    return true;
  }

  /** Takes resources on a node; returns the GPU indices granted (whole GPUs only; a fraction shares one GPU). */
  acquire(nodeId: string, want: Resources): number[] {
    const n = this.nodes.get(nodeId);
    if (!n) throw new Error(`scheduler: unknown node ${nodeId}`);
    for (const k in want) n.available[k] = (n.available[k] ?? 0) - want[k]!;
    const gpus = want.GPU ?? 0;
    if (gpus <= EPS) return [];
    if (gpus < 1) return n.freeGpus.length ? [n.freeGpus[0]!] : [0];
    return n.freeGpus.splice(0, Math.floor(gpus + EPS));
  }

  release(nodeId: string, want: Resources, gpuIds: readonly number[] = []): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    for (const k in want) n.available[k] = Math.min(n.total[k] ?? 0, (n.available[k] ?? 0) + want[k]!);
    if ((want.GPU ?? 0) >= 1) for (const g of gpuIds) if (!n.freeGpus.includes(g)) n.freeGpus.push(g);
    n.freeGpus.sort((a, b) => a - b);
  }

  /** Share of the node's most used resource (its critical utilization), counting `extra` as if placed. */
  utilization(node: SchedNode, extra: Resources = {}): number {
    let u = 0;
    for (const k in node.total) {
      const total = node.total[k]!;
      if (total <= EPS) continue;
      const used = total - (node.available[k] ?? 0) + (extra[k] ?? 0);
      u = Math.max(u, used / total);
    }
    return u;
  }

  place(demand: Demand): Placement {
    const alive = [...this.nodes.values()].filter((n) => n.schedulable);
    const strategy = demand.strategy;
    if (typeof strategy === 'object') {
      const target = this.nodes.get(strategy.nodeId);
      const feasible = target !== undefined && target.schedulable && Scheduler.fits(target.total, demand.resources);
      if (feasible) {
        if (Scheduler.fits(target.available, demand.resources)) return { kind: 'node', nodeId: target.nodeId };
        if (!strategy.soft) return { kind: 'wait', infeasible: false };
        // Soft: run elsewhere rather than wait when the target is busy (Ray spills soft affinity the same way).
      } else if (!strategy.soft) {
        return { kind: 'fail', reason: target ? `node ${strategy.nodeId} is dead or can never fit ${fmt(demand.resources)}` : `node ${strategy.nodeId} does not exist` };
      }
      return this.place({ resources: demand.resources, strategy: 'DEFAULT', preferredNodeId: demand.preferredNodeId });
    }
    const feasible = alive.filter((n) => Scheduler.fits(n.total, demand.resources));
    if (feasible.length === 0) return { kind: 'wait', infeasible: true };
    const available = feasible.filter((n) => Scheduler.fits(n.available, demand.resources));
    if (available.length === 0) return { kind: 'wait', infeasible: false };
    if (strategy === 'SPREAD') {
      // Round robin over every feasible node, in registration order, skipping busy ones.
      for (let i = 0; i < feasible.length; i++) {
        const n = feasible[(this.spreadCursor + i) % feasible.length]!;
        if (Scheduler.fits(n.available, demand.resources)) {
          this.spreadCursor = (this.spreadCursor + i + 1) % feasible.length;
          return { kind: 'node', nodeId: n.nodeId };
        }
      }
    }
    // Ray's hybrid score: a node's current critical utilization, counted as 0 while under the spread threshold;
    // the lowest score wins and ties go to the earliest node of the traversal (the preferred node first).
    const ordered = demand.preferredNodeId ? [...available].sort((a, b) => rank(a, demand.preferredNodeId) - rank(b, demand.preferredNodeId)) : available;
    let best = ordered[0]!;
    let bestScore = Infinity;
    for (const n of ordered) {
      const u = this.utilization(n);
      const score = u < this.spreadThreshold - EPS ? 0 : u;
      if (score < bestScore - EPS) {
        best = n;
        bestScore = score;
      }
    }
    return { kind: 'node', nodeId: best.nodeId };
  }
}

function rank(n: SchedNode, preferred: string | undefined): number {
  return n.nodeId === preferred ? 0 : 1;
}

export function fmt(r: Resources): string {
  return `{${Object.entries(r).filter(([, q]) => q > 0).map(([k, q]) => `${k}: ${q}`).join(', ')}}`;
}

export interface Queued {
  demand: Demand;
}

/**
 * Work waiting for resources, grouped by scheduling class (same resources and strategy) so that a class whose first
 * item does not fit is skipped as a whole: pumping stays linear in the number of classes, not of items.
 */
export class SchedulingQueue<T extends Queued> {
  private readonly classes = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    const key = classKey(item.demand);
    let q = this.classes.get(key);
    if (!q) this.classes.set(key, (q = []));
    q.push(item);
    this.count++;
  }

  /** Puts an item back at the front of its class (a retry keeps its turn). */
  unshift(item: T): void {
    const key = classKey(item.demand);
    let q = this.classes.get(key);
    if (!q) this.classes.set(key, (q = []));
    q.unshift(item);
    this.count++;
  }

  remove(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [key, q] of this.classes) {
      const keep = q.filter((item) => {
        if (predicate(item)) {
          removed.push(item);
          return false;
        }
        return true;
      });
      if (keep.length === 0) this.classes.delete(key);
      else this.classes.set(key, keep);
    }
    this.count -= removed.length;
    return removed;
  }

  /** Places what can be placed, in FIFO order within each class. */
  pump(scheduler: Scheduler, onPlaced: (item: T, nodeId: string) => void, onFail: (item: T, reason: string) => void): void {
    for (const [key, q] of this.classes) {
      let i = 0;
      while (i < q.length) {
        const item = q[i]!;
        const p = scheduler.place(item.demand);
        if (p.kind === 'wait') break;
        i++;
        this.count--;
        if (p.kind === 'node') onPlaced(item, p.nodeId);
        else onFail(item, p.reason);
      }
      if (i > 0) q.splice(0, i);
      if (q.length === 0) this.classes.delete(key);
    }
  }

  /** Pending demands for status: one line per resource shape. */
  demands(scheduler: Scheduler): { resources: Resources; count: number; infeasible: boolean }[] {
    const out = new Map<string, { resources: Resources; count: number; infeasible: boolean }>();
    for (const q of this.classes.values()) {
      if (q.length === 0) continue;
      const r = q[0]!.demand.resources;
      const key = JSON.stringify(Object.entries(r).filter(([, v]) => v > 0).sort());
      const p = scheduler.place({ resources: r, strategy: 'DEFAULT' });
      const e = out.get(key);
      if (e) e.count += q.length;
      else out.set(key, { resources: r, count: q.length, infeasible: p.kind === 'wait' && p.infeasible });
    }
    return [...out.values()];
  }
}

function classKey(d: Demand): string {
  const s = typeof d.strategy === 'object' ? `${d.strategy.nodeId}:${d.strategy.soft}` : d.strategy;
  let r = '';
  for (const k of Object.keys(d.resources).sort()) r += `${k}=${d.resources[k]};`;
  return `${s}|${r}|${d.preferredNodeId ?? ''}`;
}
