// The search space: hyperparameters, conditions, forbidden clauses, an explicit constraint, seeded sampling,
// and the encoding of configurations into flat numeric rows for the surrogate and the acquisition optimizer.
//
// Encoding (one column per hyperparameter, in the order they were added, as DeepHyper's "rule-based" surrogates):
// float/int -> the value (log10 of it for a log-uniform prior); categorical -> label code 0..K-1; numeric ordinal ->
// the raw value; other ordinal -> its position; constant -> 0. Inactive hyperparameters take a fixed value (the lower
// bound, the first choice), as DeepHyper does, so every row has the same length.
import type { Config, ParamValue } from './types.js';
import { HpoError } from './errors.js';
import { Rng } from './rng.js';
import { problemFromFile, problemFromText } from './problem-file.js';

export type Prior = 'uniform' | 'log-uniform';

export interface FloatHyperparameter {
  kind: 'float';
  name: string;
  low: number;
  high: number;
  log: boolean;
  default: number;
}
export interface IntHyperparameter {
  kind: 'int';
  name: string;
  low: number;
  high: number;
  log: boolean;
  default: number;
}
export interface CategoricalHyperparameter {
  kind: 'categorical';
  name: string;
  choices: ParamValue[];
  default: ParamValue;
}
export interface OrdinalHyperparameter {
  kind: 'ordinal';
  name: string;
  sequence: ParamValue[];
  default: ParamValue;
}
export interface ConstantHyperparameter {
  kind: 'constant';
  name: string;
  value: ParamValue;
  default: ParamValue;
}
export type Hyperparameter =
  | FloatHyperparameter
  | IntHyperparameter
  | CategoricalHyperparameter
  | OrdinalHyperparameter
  | ConstantHyperparameter;

export interface AddOptions {
  prior?: Prior;
  default?: ParamValue;
  /** Needed where JavaScript cannot tell: [0, 1] is an int range unless type is 'float'. */
  type?: 'int' | 'float' | 'categorical' | 'ordinal' | 'constant';
}

/** Range given as an object, the same shape as in a problem file. */
export interface RangeSpec {
  low: number;
  high: number;
  prior?: Prior;
  default?: number;
  type?: 'int' | 'float';
}
export type HyperparameterSpec =
  | [number, number]
  | [number, number, Prior]
  | ParamValue[]
  | RangeSpec
  | { choices: ParamValue[]; default?: ParamValue }
  | { sequence: ParamValue[]; default?: ParamValue }
  | { value: ParamValue }
  | ParamValue;

/**
 * Makes `child` active only when its parent's value satisfies the test. Several conditions on one child must all
 * hold; a child of an inactive parent is inactive (nested conditions).
 */
export interface Condition {
  parent: string;
  equals?: ParamValue;
  notEquals?: ParamValue;
  in?: ParamValue[];
  gt?: number;
  lt?: number;
}

/**
 * A forbidden combination. `{ equals: { a: 'x', b: [1, 2] } }` forbids configurations where every listed
 * hyperparameter is active with that value (or one of those values); `{ relation: '<', left, right }` forbids
 * configurations where both are active and `left < right` (also '>', '==').
 */
export type ForbiddenClause =
  | { equals: Record<string, ParamValue | ParamValue[]> }
  | { relation: '<' | '>' | '=='; left: string; right: string };

export type ConstraintFn = (config: Config) => boolean;

/** Per-column description of the encoded space, used by the acquisition optimizers. */
export interface EncodedColumn {
  /** 'real': continuous; 'int': integer steps; 'choice': one of `values`; 'const': always `low`. */
  kind: 'real' | 'int' | 'choice' | 'const';
  low: number;
  high: number;
  values: Float64Array | null;
  inactive: number;
}

interface CompiledCondition {
  parent: number;
  test: (v: ParamValue) => boolean;
}

interface CompiledForbidden {
  test: (row: Float64Array, offset: number, active: Uint8Array) => boolean;
}

const LOG10 = Math.LN10;

export class HpProblem {
  private readonly hps: Hyperparameter[] = [];
  private readonly index = new Map<string, number>();
  private readonly conditions: Array<{ child: string; condition: Condition }> = [];
  private readonly forbiddens: ForbiddenClause[] = [];
  private constraint: ConstraintFn | null = null;
  private compiled: {
    columns: EncodedColumn[];
    order: number[];
    conds: CompiledCondition[][];
    forb: CompiledForbidden[];
  } | null = null;

  /** Adds a hyperparameter; returns the problem so calls can be chained. */
  add(name: string, spec: HyperparameterSpec, options: AddOptions = {}): this {
    if (typeof name !== 'string' || name.length === 0) throw invalid(`hyperparameter name must be a non-empty string`);
    if (this.index.has(name)) throw invalid(`hyperparameter "${name}" is already defined`);
    const hp = buildHyperparameter(name, spec, options);
    this.index.set(name, this.hps.length);
    this.hps.push(hp);
    this.compiled = null;
    return this;
  }

  addCondition(child: string, condition: Condition): this {
    const fail = (m: string) => new HpoError('HPO_INVALID_CONDITION', `condition on "${child}": ${m}`);
    if (!this.index.has(child)) throw fail(`unknown hyperparameter "${child}"`);
    if (!this.index.has(condition.parent)) throw fail(`unknown parent "${condition.parent}"`);
    if (condition.parent === child) throw fail(`a hyperparameter cannot be its own parent`);
    const tests = ['equals', 'notEquals', 'in', 'gt', 'lt'].filter((k) => (condition as unknown as Record<string, unknown>)[k] !== undefined);
    if (tests.length !== 1) throw fail(`give exactly one of equals, notEquals, in, gt, lt (got ${tests.length})`);
    if (condition.in !== undefined && (!Array.isArray(condition.in) || condition.in.length === 0)) throw fail(`"in" must be a non-empty list`);
    if ((condition.gt !== undefined && typeof condition.gt !== 'number') || (condition.lt !== undefined && typeof condition.lt !== 'number'))
      throw fail(`gt/lt need a number`);
    this.conditions.push({ child, condition: { ...condition } });
    this.compiled = null;
    try {
      this.compile();
    } catch (err) {
      this.conditions.pop();
      this.compiled = null;
      throw err;
    }
    return this;
  }

  addForbidden(clause: ForbiddenClause): this {
    const fail = (m: string) => new HpoError('HPO_INVALID_FORBIDDEN', `forbidden clause: ${m}`);
    if ('equals' in clause) {
      const names = Object.keys(clause.equals);
      if (names.length === 0) throw fail('"equals" lists no hyperparameter');
      for (const n of names) if (!this.index.has(n)) throw fail(`unknown hyperparameter "${n}"`);
    } else if ('relation' in clause) {
      if (!['<', '>', '=='].includes(clause.relation)) throw fail(`relation must be '<', '>' or '=='`);
      for (const n of [clause.left, clause.right]) if (!this.index.has(n)) throw fail(`unknown hyperparameter "${n}"`);
    } else {
      throw fail('expected { equals: {...} } or { relation, left, right }');
    }
    this.forbiddens.push(clause);
    this.compiled = null;
    return this;
  }

  /** An explicit constraint: configurations for which `fn` returns false are never sampled nor suggested. */
  setConstraint(fn: ConstraintFn | null): this {
    this.constraint = fn;
    return this;
  }

  get hyperparameters(): readonly Hyperparameter[] {
    return this.hps;
  }
  get hyperparameterNames(): string[] {
    return this.hps.map((h) => h.name);
  }
  /** Number of hyperparameters (DeepHyper's `len(problem)`). */
  get size(): number {
    return this.hps.length;
  }
  get hasConstraints(): boolean {
    return this.conditions.length > 0 || this.forbiddens.length > 0 || this.constraint !== null;
  }
  get conditionList(): ReadonlyArray<{ child: string; condition: Condition }> {
    return this.conditions;
  }
  get forbiddenList(): readonly ForbiddenClause[] {
    return this.forbiddens;
  }
  get columns(): readonly EncodedColumn[] {
    return this.compile().columns;
  }

  /** The default configuration (midpoint of ranges, geometric midpoint for log priors, first choice). */
  get defaultConfiguration(): Config {
    const row = new Float64Array(this.hps.length);
    this.hps.forEach((hp, j) => (row[j] = this.encodeValue(j, hp.default)));
    this.canonicalize(row, 0);
    return this.decode(row);
  }

  /** Reads a problem from a YAML or JSON file; errors name the file, the line and the field. */
  static fromFile(path: string): HpProblem {
    return problemFromFile(path);
  }

  /** Parses a problem from YAML or JSON text (`file` names it in errors). */
  static fromText(text: string, file?: string): HpProblem {
    return problemFromText(text, file);
  }

  // ---- encoding ------------------------------------------------------------------------------------------------

  /** Encodes one value of hyperparameter j (throws on an invalid value). */
  encodeValue(j: number, v: ParamValue): number {
    const hp = this.hps[j]!;
    switch (hp.kind) {
      case 'float':
      case 'int': {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw badValue(hp.name, v);
        if (hp.kind === 'int' && !Number.isInteger(v)) throw badValue(hp.name, v, 'an integer');
        if (v < hp.low || v > hp.high) throw badValue(hp.name, v, `within [${hp.low}, ${hp.high}]`);
        return hp.log ? Math.log10(v) : v;
      }
      case 'categorical': {
        const k = hp.choices.indexOf(v);
        if (k < 0) throw badValue(hp.name, v, `one of ${JSON.stringify(hp.choices)}`);
        return k;
      }
      case 'ordinal': {
        const k = hp.sequence.indexOf(v);
        if (k < 0) throw badValue(hp.name, v, `one of ${JSON.stringify(hp.sequence)}`);
        return ordinalIsNumeric(hp) ? (v as number) : k;
      }
      case 'constant':
        if (v !== hp.value) throw badValue(hp.name, v, JSON.stringify(hp.value));
        return 0;
    }
  }

  /** Decodes the value in column j. */
  decodeValue(j: number, x: number): ParamValue {
    const hp = this.hps[j]!;
    switch (hp.kind) {
      case 'float': {
        const v = hp.log ? Math.pow(10, x) : x;
        return Math.min(hp.high, Math.max(hp.low, v));
      }
      case 'int': {
        const v = Math.round(hp.log ? Math.exp(x * LOG10) : x);
        return Math.min(hp.high, Math.max(hp.low, v));
      }
      case 'categorical':
        return hp.choices[clampIndex(x, hp.choices.length)]!;
      case 'ordinal':
        if (ordinalIsNumeric(hp)) return hp.sequence[nearestIndex(hp.sequence as number[], x)]!;
        return hp.sequence[clampIndex(x, hp.sequence.length)]!;
      case 'constant':
        return hp.value;
    }
  }

  /** Encodes a configuration (inactive or absent hyperparameters take their inactive value). */
  encode(config: Config, out?: Float64Array, offset = 0): Float64Array {
    const { columns } = this.compile();
    const row = out ?? new Float64Array(this.hps.length);
    for (const key of Object.keys(config)) {
      if (!this.index.has(key)) throw new HpoError('HPO_INVALID_CONFIG', `unknown hyperparameter "${key}" in configuration`);
    }
    for (let j = 0; j < this.hps.length; j++) {
      const v = config[this.hps[j]!.name];
      row[offset + j] = v === undefined ? columns[j]!.inactive : this.encodeValue(j, v);
    }
    this.canonicalize(row, offset);
    return row;
  }

  /** Decodes a row into a configuration; inactive hyperparameters are left out. */
  decode(row: Float64Array, offset = 0): Config {
    const active = this.activity(row, offset);
    const config: Config = {};
    for (let j = 0; j < this.hps.length; j++) {
      if (active[j]) config[this.hps[j]!.name] = this.decodeValue(j, row[offset + j]!);
    }
    return config;
  }

  /** Which hyperparameters of the row are active under the conditions. */
  activity(row: Float64Array, offset = 0, out?: Uint8Array): Uint8Array {
    const { order, conds } = this.compile();
    const active = out ?? new Uint8Array(this.hps.length);
    for (const j of order) {
      let on = 1;
      for (const c of conds[j]!) {
        if (!active[c.parent] || !c.test(this.decodeValue(c.parent, row[offset + c.parent]!))) {
          on = 0;
          break;
        }
      }
      active[j] = on;
    }
    return active;
  }

  /**
   * Snaps a row onto the space in place: integers rounded, choices to the nearest allowed value, all clipped, and
   * inactive hyperparameters set to their inactive value. Returns the activity mask.
   */
  canonicalize(row: Float64Array, offset = 0, activeOut?: Uint8Array): Uint8Array {
    const { columns } = this.compile();
    for (let j = 0; j < columns.length; j++) {
      row[offset + j] = snapColumn(columns[j]!, this.hps[j]!, row[offset + j]!);
    }
    const active = this.activity(row, offset, activeOut);
    if (this.conditions.length > 0) {
      for (let j = 0; j < columns.length; j++) if (!active[j]) row[offset + j] = columns[j]!.inactive;
    }
    return active;
  }

  /** True when a canonical row violates no forbidden clause and passes the constraint function. */
  isAllowed(row: Float64Array, offset = 0, active?: Uint8Array): boolean {
    if (this.forbiddens.length === 0 && this.constraint === null) return true;
    const act = active ?? this.activity(row, offset);
    for (const f of this.compile().forb) if (f.test(row, offset, act)) return false;
    if (this.constraint !== null && !this.constraint(this.decode(row, offset))) return false;
    return true;
  }

  /** Validates a configuration: known names, valid values, all active hyperparameters present, none forbidden. */
  checkConfiguration(config: Config): void {
    const row = this.encode(config);
    const active = this.activity(row);
    for (let j = 0; j < this.hps.length; j++) {
      const name = this.hps[j]!.name;
      if (active[j] && config[name] === undefined) throw new HpoError('HPO_INVALID_CONFIG', `active hyperparameter "${name}" is missing`);
      if (!active[j] && config[name] !== undefined) throw new HpoError('HPO_INVALID_CONFIG', `hyperparameter "${name}" is inactive under its conditions but was given`);
    }
    if (!this.isAllowed(row, 0, active)) throw new HpoError('HPO_INVALID_CONFIG', `configuration ${JSON.stringify(config)} is forbidden or fails the constraint`);
  }

  // ---- sampling ------------------------------------------------------------------------------------------------

  /**
   * Draws `count` canonical rows (row-major, count × size) from the prior, honouring conditions, forbidden clauses
   * and the constraint by rejection. Throws when fewer than `count` valid rows are found in `maxTrials` tries each.
   */
  sampleEncoded(rng: Rng, count: number, maxTrialsPerPoint = 1000): Float64Array {
    const d = this.hps.length;
    const { columns } = this.compile();
    const out = new Float64Array(count * d);
    const active = new Uint8Array(d);
    const constrained = this.forbiddens.length > 0 || this.constraint !== null;
    let trials = 0;
    for (let i = 0; i < count; ) {
      const off = i * d;
      for (let j = 0; j < d; j++) out[off + j] = drawColumn(columns[j]!, this.hps[j]!, rng);
      this.canonicalize(out, off, active);
      if (constrained && !this.isAllowed(out, off, active)) {
        trials++;
        if (trials > maxTrialsPerPoint * (i + 1)) {
          throw new HpoError('HPO_SAMPLING_EXHAUSTED', `could only sample ${i} of ${count} configurations: the forbidden clauses or the constraint reject nearly everything (${trials} draws)`);
        }
        continue;
      }
      i++;
    }
    return out;
  }

  /** Draws `count` configurations with a seeded stream (a number or an Rng). */
  sample(count: number, seed: number | Rng = 0): Config[] {
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    const rows = this.sampleEncoded(rng, count);
    const out: Config[] = [];
    for (let i = 0; i < count; i++) out.push(this.decode(rows, i * this.hps.length));
    return out;
  }

  /** A plain-data description of the problem (what `fromObject` reads back). */
  toJSON(): Record<string, unknown> {
    return {
      hyperparameters: this.hps.map((h) => ({ ...h })),
      conditions: this.conditions.map((c) => ({ child: c.child, ...c.condition })),
      forbidden: this.forbiddens,
    };
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private compile() {
    if (this.compiled) return this.compiled;
    const columns = this.hps.map(columnOf);
    const conds: CompiledCondition[][] = this.hps.map(() => []);
    for (const { child, condition } of this.conditions) {
      conds[this.index.get(child)!]!.push(compileCondition(this.index.get(condition.parent)!, condition));
    }
    const order = topologicalOrder(this.hps.length, conds, this.hps);
    const forb = this.forbiddens.map((f) => this.compileForbidden(f));
    this.compiled = { columns, order, conds, forb };
    return this.compiled;
  }

  private compileForbidden(f: ForbiddenClause): CompiledForbidden {
    if ('equals' in f) {
      const parts = Object.entries(f.equals).map(([name, v]) => {
        const j = this.index.get(name)!;
        const allowed = (Array.isArray(v) ? v : [v]).map((x) => this.encodeValue(j, x));
        return { j, allowed };
      });
      return {
        test: (row, off, act) => parts.every(({ j, allowed }) => act[j] === 1 && allowed.includes(row[off + j]!)),
      };
    }
    const l = this.index.get(f.left)!;
    const r = this.index.get(f.right)!;
    return {
      test: (row, off, act) => {
        if (!act[l] || !act[r]) return false;
        const a = this.decodeValue(l, row[off + l]!);
        const b = this.decodeValue(r, row[off + r]!);
        return f.relation === '<' ? a < b : f.relation === '>' ? a > b : a === b;
      },
    };
  }
}

function invalid(message: string): HpoError {
  return new HpoError('HPO_INVALID_HYPERPARAMETER', message);
}

function badValue(name: string, v: unknown, expected?: string): HpoError {
  return new HpoError('HPO_INVALID_CONFIG', `hyperparameter "${name}": invalid value ${JSON.stringify(v)}${expected ? `, expected ${expected}` : ''}`);
}

function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

function ordinalIsNumeric(hp: OrdinalHyperparameter): boolean {
  return hp.sequence.every((v) => typeof v === 'number');
}

function clampIndex(x: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.round(x)));
}

function nearestIndex(values: number[], x: number): number {
  let best = 0;
  let bd = Infinity;
  for (let k = 0; k < values.length; k++) {
    const dd = Math.abs(values[k]! - x);
    if (dd < bd) {
      bd = dd;
      best = k;
    }
  }
  return best;
}

function buildHyperparameter(name: string, spec: HyperparameterSpec, opts: AddOptions): Hyperparameter {
  const where = `hyperparameter "${name}"`;
  // Range given as [low, high] or [low, high, prior].
  if (Array.isArray(spec)) {
    const isRange =
      opts.type !== 'categorical' &&
      opts.type !== 'ordinal' &&
      ((spec.length === 2 && typeof spec[0] === 'number' && typeof spec[1] === 'number') ||
        (spec.length === 3 && typeof spec[0] === 'number' && typeof spec[1] === 'number' && (spec[2] === 'uniform' || spec[2] === 'log-uniform')));
    if (isRange) {
      return buildRange(name, {
        low: spec[0] as number,
        high: spec[1] as number,
        prior: (spec[2] as Prior | undefined) ?? opts.prior,
        default: opts.default as number | undefined,
        type: opts.type === 'int' || opts.type === 'float' ? opts.type : undefined,
      });
    }
    if (spec.length === 0) throw invalid(`${where}: empty list of values`);
    const values = spec as unknown[];
    if (!values.every(isParamValue)) throw invalid(`${where}: list values must be numbers, strings or booleans`);
    if (new Set(values).size !== values.length) throw invalid(`${where}: duplicated values in ${JSON.stringify(values)}`);
    const numeric = values.every((v) => typeof v === 'number');
    const kind = opts.type === 'categorical' || opts.type === 'ordinal' ? opts.type : numeric ? 'ordinal' : 'categorical';
    const def = opts.default ?? values[0]!;
    if (!values.includes(def)) throw invalid(`${where}: default ${JSON.stringify(def)} is not one of the values`);
    return kind === 'ordinal' ? { kind, name, sequence: [...values], default: def } : { kind, name, choices: [...values], default: def };
  }
  if (spec !== null && typeof spec === 'object') {
    const o = spec as Record<string, unknown>;
    if ('low' in o || 'high' in o) {
      return buildRange(name, {
        low: o.low as number,
        high: o.high as number,
        prior: (o.prior as Prior | undefined) ?? opts.prior,
        default: (o.default as number | undefined) ?? (opts.default as number | undefined),
        type: (o.type as 'int' | 'float' | undefined) ?? (opts.type === 'int' || opts.type === 'float' ? opts.type : undefined),
      });
    }
    if ('choices' in o) return buildHyperparameter(name, o.choices as ParamValue[], { ...opts, type: 'categorical', default: (o.default as ParamValue | undefined) ?? opts.default });
    if ('sequence' in o) return buildHyperparameter(name, o.sequence as ParamValue[], { ...opts, type: 'ordinal', default: (o.default as ParamValue | undefined) ?? opts.default });
    if ('value' in o) return buildHyperparameter(name, o.value as ParamValue, opts);
    throw invalid(`${where}: an object must have low/high, choices, sequence or value`);
  }
  if (isParamValue(spec)) return { kind: 'constant', name, value: spec, default: spec };
  throw invalid(`${where}: unsupported specification ${JSON.stringify(spec)}`);
}

function buildRange(name: string, r: RangeSpec): Hyperparameter {
  const where = `hyperparameter "${name}"`;
  const { low, high } = r;
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) throw invalid(`${where}: low and high must be finite numbers`);
  if (!(low < high)) throw invalid(`${where}: low (${low}) must be below high (${high})`);
  const prior = r.prior ?? 'uniform';
  if (prior !== 'uniform' && prior !== 'log-uniform') throw invalid(`${where}: prior must be "uniform" or "log-uniform", got ${JSON.stringify(prior)}`);
  const log = prior === 'log-uniform';
  if (log && low <= 0) throw invalid(`${where}: a log-uniform prior needs low > 0`);
  const kind = r.type ?? (Number.isInteger(low) && Number.isInteger(high) ? 'int' : 'float');
  if (kind !== 'int' && kind !== 'float') throw invalid(`${where}: type must be "int" or "float"`);
  if (kind === 'int' && (!Number.isInteger(low) || !Number.isInteger(high))) throw invalid(`${where}: an int range needs integer bounds`);
  let def = r.default;
  if (def === undefined) {
    def = log ? Math.sqrt(low * high) : (low + high) / 2;
    if (kind === 'int') def = Math.round(def);
  }
  if (typeof def !== 'number' || def < low || def > high || (kind === 'int' && !Number.isInteger(def))) throw invalid(`${where}: default ${JSON.stringify(def)} outside [${low}, ${high}]`);
  return { kind, name, low, high, log, default: def };
}

function columnOf(hp: Hyperparameter): EncodedColumn {
  switch (hp.kind) {
    case 'float':
    case 'int': {
      const lo = hp.log ? Math.log10(hp.low) : hp.low;
      const hi = hp.log ? Math.log10(hp.high) : hp.high;
      return { kind: hp.kind === 'int' && !hp.log ? 'int' : 'real', low: lo, high: hi, values: null, inactive: lo };
    }
    case 'categorical':
      return { kind: 'choice', low: 0, high: hp.choices.length - 1, values: Float64Array.from(hp.choices.map((_, k) => k)), inactive: 0 };
    case 'ordinal': {
      const vals = ordinalIsNumeric(hp) ? Float64Array.from(hp.sequence as number[]) : Float64Array.from(hp.sequence.map((_, k) => k));
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of vals) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      return { kind: 'choice', low: lo, high: hi, values: vals, inactive: vals[0]! };
    }
    case 'constant':
      return { kind: 'const', low: 0, high: 0, values: null, inactive: 0 };
  }
}

function snapColumn(c: EncodedColumn, hp: Hyperparameter, x: number): number {
  if (!Number.isFinite(x)) x = c.inactive;
  switch (c.kind) {
    case 'real': {
      const v = Math.min(c.high, Math.max(c.low, x));
      // A log-scaled integer lives on a continuous axis; snap it to the encoding of its rounded value.
      if (hp.kind === 'int') return Math.log10(Math.min(hp.high, Math.max(hp.low, Math.round(Math.pow(10, v)))));
      return v;
    }
    case 'int':
      return Math.min(c.high, Math.max(c.low, Math.round(x)));
    case 'choice': {
      const vals = c.values!;
      let best = vals[0]!;
      let bd = Infinity;
      for (let k = 0; k < vals.length; k++) {
        const dd = Math.abs(vals[k]! - x);
        if (dd < bd) {
          bd = dd;
          best = vals[k]!;
        }
      }
      return best;
    }
    case 'const':
      return 0;
  }
}

function drawColumn(c: EncodedColumn, hp: Hyperparameter, rng: Rng): number {
  switch (c.kind) {
    case 'real':
      if (hp.kind === 'int') {
        // Log-uniform integer: uniform in log space, then rounded (as skopt does).
        return Math.log10(Math.min(hp.high, Math.max(hp.low, Math.round(Math.pow(10, rng.uniform(c.low, c.high))))));
      }
      return rng.uniform(c.low, c.high);
    case 'int':
      return c.low + rng.int(c.high - c.low + 1);
    case 'choice':
      return c.values![rng.int(c.values!.length)]!;
    case 'const':
      return 0;
  }
}

function compileCondition(parent: number, c: Condition): CompiledCondition {
  if (c.equals !== undefined) return { parent, test: (v) => v === c.equals };
  if (c.notEquals !== undefined) return { parent, test: (v) => v !== c.notEquals };
  if (c.in !== undefined) {
    const set = new Set<ParamValue>(c.in);
    return { parent, test: (v) => set.has(v) };
  }
  if (c.gt !== undefined) return { parent, test: (v) => typeof v === 'number' && v > c.gt! };
  return { parent, test: (v) => typeof v === 'number' && v < c.lt! };
}

function topologicalOrder(n: number, conds: CompiledCondition[][], hps: Hyperparameter[]): number[] {
  const state = new Uint8Array(n); // 0 new, 1 visiting, 2 done
  const order: number[] = [];
  const visit = (j: number, path: number[]) => {
    if (state[j] === 2) return;
    if (state[j] === 1) {
      const cycle = [...path.slice(path.indexOf(j)), j].map((k) => hps[k]!.name).join(' -> ');
      throw new HpoError('HPO_INVALID_CONDITION', `conditions form a cycle: ${cycle}`);
    }
    state[j] = 1;
    for (const c of conds[j]!) visit(c.parent, [...path, j]);
    state[j] = 2;
    order.push(j);
  };
  for (let j = 0; j < n; j++) visit(j, []);
  return order;
}
