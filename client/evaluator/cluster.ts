// The cluster backend: one actor per worker slot on the dhts cluster (each with the evaluation's resources, such
// as numGpus), jobs streamed through long polls so that intermediate values reach the search's stopper and its
// decisions reach the run on whichever node it runs. A run that ignores a stop is ended by killing its actor.
import { ActorDiedError, get, init, isInitialized, kill, remote, shutdown, type ActorHandle } from '../index.js';
import type { ActorJobSource, EvaluationActor, PollReply } from './cluster-actor.js';
import { EvaluatorError } from './errors.js';
import type { ResolvedSource } from './factory.js';
import { errorMessage, PoolEvaluator, type RunOutcome, type SlotHooks, type WorkerSlot } from './pool.js';
import type { JobSpec } from './types.js';

const ACTOR_MODULE = new URL('./cluster-actor.js', import.meta.url);

export interface ClusterOptions {
  numWorkers: number;
  killGraceMs: number;
  resources?: { numCpus?: number; numGpus?: number; resources?: Record<string, number> };
  address?: string;
  /** Longest wait of one poll, i.e. the heartbeat of a running job (default 250 ms). */
  heartbeatMs?: number;
}

type Actor = ActorHandle<EvaluationActor>;

class ClusterSlot implements WorkerSlot {
  dead = false;
  private stopRequested = false;
  private onKilled: ((o: RunOutcome) => void) | undefined;

  constructor(
    private readonly actor: Actor,
    private readonly source: ActorJobSource,
    private readonly heartbeatMs: number,
  ) {}

  async run(spec: JobSpec, hooks: SlotHooks): Promise<RunOutcome> {
    this.stopRequested = false;
    const killed = new Promise<RunOutcome>((resolve) => (this.onKilled = resolve));
    const stream = async (): Promise<RunOutcome> => {
      let reply: PollReply = await get(this.actor.begin.remote(spec, this.source, this.heartbeatMs));
      for (;;) {
        const decisions = reply.records.map((r) => ({ seq: r.seq, stop: hooks.onRecord(r.step, r.objective).stop }));
        if (reply.outcome) return reply.outcome;
        reply = await get(this.actor.poll.remote(decisions, this.stopRequested, this.heartbeatMs));
      }
    };
    try {
      return await Promise.race([stream(), killed]);
    } catch (err) {
      this.dead = true;
      const why = err instanceof ActorDiedError ? 'the actor running the evaluation died' : 'the cluster call failed';
      return { kind: 'crashed', message: `${why}: ${errorMessage(err)}` };
    } finally {
      this.onKilled = undefined;
    }
  }

  requestStop(): void {
    this.stopRequested = true;
    if (!this.dead) get(this.actor.stop.remote()).catch(() => undefined);
  }

  async kill(): Promise<void> {
    this.dead = true;
    // The actor's commands run in their own process groups, which die with their group, not with the actor.
    await get(this.actor.abort.remote(), { timeoutMs: 1000 }).catch(() => undefined);
    kill(this.actor);
    this.onKilled?.({ kind: 'crashed', message: 'evaluation actor killed' });
  }

  async close(): Promise<void> {
    this.dead = true;
    try {
      kill(this.actor);
    } catch {
      // already gone, or the runtime shut down
    }
  }
}

export class ClusterEvaluator extends PoolEvaluator {
  readonly method = 'cluster' as const;
  private readonly source: ActorJobSource;
  private readonly options: ClusterOptions;
  private ownsRuntime = false;

  private constructor(source: ResolvedSource, options: ClusterOptions) {
    super({ numWorkers: options.numWorkers, killGraceMs: options.killGraceMs, timeoutMs: source.timeoutMs });
    this.source = { specifier: source.specifier, exportName: source.exportName, runKwargs: source.runKwargs };
    this.options = options;
  }

  /** Connect to the cluster (init() with `address` unless already connected) and build the evaluator. */
  static async create(source: ResolvedSource, options: ClusterOptions): Promise<ClusterEvaluator> {
    if (!source.specifier.startsWith('file:') && !/^[a-z]+:/i.test(source.specifier)) {
      throw new EvaluatorError('EVALUATOR_BAD_OPTIONS', `the cluster backend needs a module URL (file:...), got ${source.specifier}`);
    }
    const evaluator = new ClusterEvaluator(source, options);
    if (!isInitialized()) {
      try {
        await init({ address: options.address, logToDriver: true });
      } catch (cause) {
        throw new EvaluatorError('CLUSTER_UNAVAILABLE', `cannot reach the cluster${options.address ? ` at ${options.address}` : ''}: ${errorMessage(cause)}`, { cause });
      }
      evaluator.ownsRuntime = true;
    }
    return evaluator;
  }

  protected async createSlot(): Promise<WorkerSlot> {
    const r = this.options.resources ?? {};
    const actorClass = remote<typeof EvaluationActor>(ACTOR_MODULE, 'EvaluationActor', {
      numCpus: r.numCpus ?? 1,
      ...(r.numGpus !== undefined ? { numGpus: r.numGpus } : {}),
      ...(r.resources ? { resources: r.resources } : {}),
      // poll, stop and abort must get through while a poll is waiting.
      maxConcurrency: 4,
    });
    const actor = actorClass.remote() as Actor;
    await get(actor.ping.remote());
    return new ClusterSlot(actor, this.source, this.options.heartbeatMs ?? 250);
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.ownsRuntime) await shutdown();
  }
}
