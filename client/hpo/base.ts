// Shared base of the ask/tell optimizers: history of told evaluations (configurations and their encoded rows),
// configurations asked but not told yet, and the bridge to the search loop when built with an evaluator.
import type { AskTellOptimizer, Config, Evaluation, Objective } from './types.js';
import type { Evaluator } from '../evaluator/evaluator.js';
import type { Stopper } from '../stopper/types.js';
import type { HpProblem } from './problem.js';
import { RowSet } from './acq-optimizer.js';
import { HpoError } from './errors.js';

/** Options every optimizer accepts, used by `search()`. */
export interface BaseOptions {
  /** Seed of every random decision; the same seed and history give the same asks. */
  seed?: number;
  /** Directory of the search's journal and results.csv (used by `search()`). */
  logDir?: string;
  /** Early-discarding policy (used by `search()`). */
  stopper?: Stopper;
}

/** Splits `(problem, options)` and `(problem, evaluator, options)` argument forms. */
export function splitArgs<O extends object>(a: Evaluator | O | undefined, b: O | undefined): { evaluator: Evaluator | undefined; options: O } {
  if (a !== undefined && typeof (a as { numWorkers?: unknown }).numWorkers === 'number' && typeof (a as { submit?: unknown }).submit === 'function') {
    return { evaluator: a as Evaluator, options: (b ?? {}) as O };
  }
  return { evaluator: undefined, options: ((a as O | undefined) ?? b ?? {}) as O };
}

export abstract class SearchBase implements AskTellOptimizer {
  readonly problem: HpProblem;
  readonly evaluator: Evaluator | undefined;
  readonly logDir: string | undefined;
  readonly stopper: Stopper | undefined;
  readonly seed: number;

  /** Told evaluations, in telling order. */
  protected readonly history: Evaluation[] = [];
  /** Encoded rows of the history, row-major (grown by doubling). */
  protected historyRows: Float64Array;
  /** true where the evaluation failed (objective null, `failed`, or not finite). */
  protected failedFlags: Uint8Array;
  protected nFailed = 0;
  /** Every row told, for duplicate filtering. */
  protected readonly told: RowSet;
  /** Rows asked and not told yet (DeepHyper's "sampled" minus the told ones). */
  protected pending: Float64Array[] = [];
  /** Keys of the pending configurations (values in hyperparameter order), to match them when told. */
  private pendingKeys: string[] = [];
  /** Number of objectives once known (1 for scalars). */
  protected nObjectives = 0;

  constructor(problem: HpProblem, evaluator: Evaluator | undefined, options: BaseOptions) {
    if (problem.size === 0) throw new HpoError('HPO_INVALID_OPTION', 'the problem has no hyperparameter; add some with problem.add()');
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new HpoError('HPO_INVALID_OPTION', `seed must be a finite number, got ${seed}`);
    this.problem = problem;
    this.evaluator = evaluator;
    this.logDir = options.logDir;
    this.stopper = options.stopper;
    this.seed = Math.floor(seed);
    this.historyRows = new Float64Array(64 * problem.size);
    this.failedFlags = new Uint8Array(64);
    this.told = new RowSet(problem.size, 64);
  }

  abstract ask(n?: number): Config[];

  /** The evaluations told so far (a copy). */
  get evaluations(): Evaluation[] {
    return this.history.slice();
  }

  /** Number of evaluations asked and not yet told. */
  get pendingCount(): number {
    return this.pending.length;
  }

  tell(evaluations: Evaluation[]): void {
    const d = this.problem.size;
    const parsed = evaluations.map((e, k) => this.validate(e, k));
    for (const { e, row, failed } of parsed) {
      const i = this.history.length;
      if ((i + 1) * d > this.historyRows.length) {
        const grown = new Float64Array(this.historyRows.length * 2);
        grown.set(this.historyRows);
        this.historyRows = grown;
        const flags = new Uint8Array(this.failedFlags.length * 2);
        flags.set(this.failedFlags);
        this.failedFlags = flags;
      }
      this.historyRows.set(row, i * d);
      this.failedFlags[i] = failed ? 1 : 0;
      if (failed) this.nFailed++;
      this.history.push(e);
      this.told.add(row);
      // Matched by value, not by row: re-encoding a log-scaled value may differ from the asked row in the last bit.
      const k = this.pendingKeys.indexOf(this.keyOf(e.config));
      if (k >= 0) {
        this.pending.splice(k, 1);
        this.pendingKeys.splice(k, 1);
      }
      this.afterTell(i);
    }
  }

  /** Hook run after evaluation i was appended to the history. */
  protected afterTell(_i: number): void {}

  /** Marks rows as asked (they count as duplicates until told). */
  protected markAsked(rows: Float64Array[], configs: Config[]): void {
    rows.forEach((r, k) => {
      this.pending.push(r);
      this.pendingKeys.push(this.keyOf(configs[k]!));
    });
  }

  private keyOf(config: Config): string {
    return JSON.stringify(this.problem.hyperparameterNames.map((n) => config[n] ?? null));
  }

  /** Runs the search loop with the evaluator given to the constructor. */
  async search(options: { maxEvals?: number; timeoutMs?: number; resume?: boolean } = {}) {
    if (this.evaluator === undefined) {
      throw new HpoError('HPO_NO_EVALUATOR', 'search() needs an evaluator: construct the optimizer as new CBO(problem, evaluator, options), or drive it with ask()/tell()');
    }
    const { runSearch } = await import('../search/loop.js');
    return runSearch(this, this.evaluator!, { ...options, logDir: this.logDir, stopper: this.stopper });
  }

  private validate(e: Evaluation, k: number): { e: Evaluation; row: Float64Array; failed: boolean } {
    if (e === null || typeof e !== 'object' || e.config === null || typeof e.config !== 'object') {
      throw new HpoError('HPO_INVALID_EVALUATION', `evaluation #${k} has no config object`);
    }
    let row: Float64Array;
    try {
      row = this.problem.encode(e.config);
    } catch (err) {
      throw new HpoError('HPO_INVALID_EVALUATION', `evaluation #${k}: ${(err as Error).message}`, { cause: err });
    }
    const obj: Objective | null = e.objective;
    let failed = e.failed === true || obj === null || obj === undefined;
    if (!failed) {
      const values = typeof obj === 'number' ? [obj] : Array.isArray(obj) ? obj : null;
      if (values === null || values.length === 0 || values.some((v) => typeof v !== 'number')) {
        throw new HpoError('HPO_INVALID_EVALUATION', `evaluation #${k}: objective must be a number, a list of numbers or null, got ${JSON.stringify(obj)}`);
      }
      const m = typeof obj === 'number' ? 1 : values.length;
      if (this.nObjectives === 0) this.nObjectives = m;
      else if (m !== this.nObjectives) {
        throw new HpoError('HPO_INVALID_EVALUATION', `evaluation #${k}: ${m} objective(s) where earlier evaluations had ${this.nObjectives}`);
      }
      // Non-finite objectives are failures, as DeepHyper's evaluator turns them into "F".
      if (values.some((v) => !Number.isFinite(v))) failed = true;
    }
    return { e: failed && e.failed !== true ? { ...e, failed: true } : e, row, failed };
  }
}
