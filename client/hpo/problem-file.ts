// Reading a problem from a YAML or JSON file (JSON is read by the YAML parser too, so both get line numbers).
// The file maps names to ranges, lists or constants (the shapes of HpProblem.add); two reserved keys hold
// `conditions` and `forbidden` clauses. Every error names the file, the line and the field.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type Pair } from 'yaml';
import { HpProblem, type Condition, type ForbiddenClause, type HyperparameterSpec } from './problem.js';
import { ProblemFileError } from './errors.js';
import type { ParamValue } from './types.js';

const RESERVED = new Set(['conditions', 'forbidden', 'constraints']);

/** Reads a problem file (.yaml, .yml or .json). */
export function problemFromFile(path: string): HpProblem {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProblemFileError(path, undefined, undefined, `cannot read the file (${(err as Error).message})`, { cause: err });
  }
  return problemFromText(text, path);
}

/** Parses problem text (YAML or JSON); `file` is only used in error messages. */
export function problemFromText(text: string, file = '<text>'): HpProblem {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ProblemFileError(file, e.linePos?.[0]?.line, undefined, `syntax error: ${e.message.split('\n')[0]}`, { cause: e });
  }
  const root = doc.contents;
  const lineOf = (node: unknown): number | undefined => {
    const r = (node as { range?: [number, number, number] } | null)?.range;
    return r ? lines.linePos(r[0]).line : undefined;
  };
  const fail = (node: unknown, field: string | undefined, message: string, cause?: unknown): never => {
    throw new ProblemFileError(file, lineOf(node), field, message, cause === undefined ? undefined : { cause });
  };
  if (!isMap(root)) fail(root, undefined, 'the file must map hyperparameter names to ranges, lists or values');
  const map = root as unknown as { items: Pair<unknown, unknown>[] };
  const problem = new HpProblem();
  let conditionsNode: unknown;
  let forbiddenNode: unknown;
  for (const pair of map.items) {
    const keyNode = pair.key;
    const name = isScalar(keyNode) ? String(keyNode.value) : fail(keyNode, undefined, 'keys must be plain names');
    if (RESERVED.has(name)) {
      if (name === 'conditions') conditionsNode = pair.value;
      else if (name === 'forbidden') forbiddenNode = pair.value;
      else fail(keyNode, name, 'constraint functions cannot be written in a file; set them with problem.setConstraint()');
      continue;
    }
    const valueNode = pair.value as YamlNode | null;
    if (valueNode === null || valueNode === undefined) fail(keyNode, name, 'missing value (a range, a list or a constant)');
    const spec = specOf(valueNode!, text, (n, f, m) => fail(n, f === '' ? name : `${name}.${f}`, m));
    try {
      problem.add(name, spec.spec, spec.options);
    } catch (err) {
      fail(valueNode, name, (err as Error).message.replace(/^hyperparameter "[^"]*": /, ''), err);
    }
  }
  if (conditionsNode !== undefined) {
    if (!isSeq(conditionsNode)) fail(conditionsNode, 'conditions', 'must be a list of { child, parent, equals|notEquals|in|gt|lt }');
    (conditionsNode as { items: unknown[] }).items.forEach((item, k) => {
      const field = `conditions[${k}]`;
      const v = isMap(item) ? (item.toJSON() as Record<string, unknown>) : fail(item, field, 'must be a mapping');
      const { child, ...rest } = v as { child?: unknown } & Record<string, unknown>;
      if (typeof child !== 'string') fail(item, `${field}.child`, 'missing or not a name');
      try {
        problem.addCondition(child as string, rest as unknown as Condition);
      } catch (err) {
        fail(item, field, (err as Error).message, err);
      }
    });
  }
  if (forbiddenNode !== undefined) {
    if (!isSeq(forbiddenNode)) fail(forbiddenNode, 'forbidden', 'must be a list of { equals: {...} } or { relation, left, right }');
    (forbiddenNode as { items: unknown[] }).items.forEach((item, k) => {
      const field = `forbidden[${k}]`;
      const v = isMap(item) ? item.toJSON() : fail(item, field, 'must be a mapping');
      try {
        problem.addForbidden(v as ForbiddenClause);
      } catch (err) {
        fail(item, field, (err as Error).message, err);
      }
    });
  }
  if (problem.size === 0) fail(root, undefined, 'no hyperparameter defined');
  return problem;
}

type Fail = (node: unknown, field: string, message: string) => never;

/** Turns one value node into an `add` specification; numbers written with a dot or exponent mean float. */
function specOf(node: YamlNode, text: string, fail: Fail): { spec: HyperparameterSpec; options: { type?: 'float' } } {
  const looksFloat = (n: unknown) => {
    const r = (n as { range?: [number, number, number] }).range;
    return r !== undefined && /[.eE]/.test(text.slice(r[0], r[1])) && !/^\s*["']/.test(text.slice(r[0], r[1]));
  };
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') fail(node, '', `unsupported value ${JSON.stringify(v)}`);
    return { spec: v as ParamValue, options: {} };
  }
  if (isSeq(node)) {
    const items = node.items;
    const values = items.map((it, k) => (isScalar(it) ? it.value : fail(it, `[${k}]`, 'list items must be numbers, strings or booleans')));
    const isRange = values.length === 2 && values.every((v) => typeof v === 'number');
    return { spec: values as ParamValue[], options: isRange && items.some(looksFloat) ? { type: 'float' } : {} };
  }
  if (isMap(node)) {
    const obj = node.toJSON() as Record<string, unknown>;
    const known = ['low', 'high', 'prior', 'default', 'type', 'choices', 'sequence', 'value'];
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (!known.includes(k)) fail(pair.key, k, `unknown key; expected one of ${known.join(', ')}`);
    }
    if ('low' in obj || 'high' in obj) {
      if (typeof obj.low !== 'number') fail(node.get('low', true) ?? node, 'low', 'missing or not a number');
      if (typeof obj.high !== 'number') fail(node.get('high', true) ?? node, 'high', 'missing or not a number');
      const floaty = looksFloat(node.get('low', true)) || looksFloat(node.get('high', true));
      return { spec: { ...(obj as object), type: (obj.type as 'int' | 'float' | undefined) ?? (floaty ? 'float' : undefined) } as HyperparameterSpec, options: {} };
    }
    return { spec: obj as HyperparameterSpec, options: {} };
  }
  return fail(node, '', 'expected a range, a list or a constant');
}


