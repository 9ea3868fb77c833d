// Random search: independent draws from the prior (conditions, forbidden clauses and the constraint honoured),
// the baseline of every benchmark. Seeded like CBO: the same seed and history give the same asks.
import type { Config } from './types.js';
import type { Evaluator } from '../evaluator/evaluator.js';
import type { HpProblem } from './problem.js';
import { SearchBase, splitArgs, type BaseOptions } from './base.js';
import { Rng } from './rng.js';
import { HpoError } from './errors.js';

export type RandomSearchOptions = BaseOptions;

export class RandomSearch extends SearchBase {
  constructor(problem: HpProblem, options?: RandomSearchOptions);
  constructor(problem: HpProblem, evaluator: Evaluator, options?: RandomSearchOptions);
  constructor(problem: HpProblem, a?: Evaluator | RandomSearchOptions, b?: RandomSearchOptions) {
    const { evaluator, options } = splitArgs<RandomSearchOptions>(a, b);
    super(problem, evaluator, options);
  }

  ask(n = 1): Config[] {
    if (!Number.isInteger(n) || n < 1) throw new HpoError('HPO_INVALID_OPTION', `ask(n) needs a positive integer, got ${n}`);
    const rng = new Rng(this.seed, this.history.length, this.pending.length, 0x5a4d);
    const d = this.problem.size;
    const rows = this.problem.sampleEncoded(rng, n);
    const asked: Float64Array[] = [];
    for (let i = 0; i < n; i++) asked.push(rows.slice(i * d, i * d + d));
    const configs = asked.map((r) => this.problem.decode(r));
    this.markAsked(asked, configs);
    return configs;
  }
}
