import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HpProblem, HpoError, ProblemFileError, Rng, type Config } from '../../client/hpo/index.js';

function conditionalProblem(): HpProblem {
  const p = new HpProblem();
  p.add('lr', [1e-5, 1e-1], { prior: 'log-uniform', default: 1e-3 });
  p.add('units', [8, 512]);
  p.add('x', [0, 1], { type: 'float' });
  p.add('activation', ['relu', 'tanh', 'gelu']);
  p.add('dropout', [0, 0.5]);
  p.add('depth', [1, 2, 3]); // numeric list: ordinal
  p.add('width2', [1, 64]);
  p.add('width3', [1, 64]);
  p.add('batch', [16, 1024], { prior: 'log-uniform' });
  p.add('tag', 'v1');
  p.addCondition('dropout', { parent: 'activation', in: ['relu'] });
  p.addCondition('width2', { parent: 'depth', gt: 1 });
  p.addCondition('width3', { parent: 'depth', equals: 3 });
  p.addCondition('width3', { parent: 'width2', gt: 10 }); // nested: width3 needs an active width2 too
  p.addForbidden({ equals: { activation: 'gelu', depth: [2, 3] } });
  p.addForbidden({ relation: '<', left: 'width3', right: 'width2' });
  return p;
}

function checkValid(t: Test, p: HpProblem, c: Config): void {
  const depth = c.depth as number;
  t.equal(c.dropout !== undefined, c.activation === 'relu', 'dropout active iff relu');
  t.equal(c.width2 !== undefined, depth > 1, 'width2 active iff depth > 1');
  t.equal(c.width3 !== undefined, depth === 3 && (c.width2 as number) > 10, 'width3 active iff depth 3 and width2 > 10');
  t.notOk(c.activation === 'gelu' && depth > 1, 'forbidden gelu with depth > 1');
  if (c.width3 !== undefined) t.ok((c.width3 as number) >= (c.width2 as number), 'width3 >= width2');
  t.ok(Number.isInteger(c.units) && (c.units as number) >= 8 && (c.units as number) <= 512, 'units integer in range');
  t.ok(Number.isInteger(c.batch) && (c.batch as number) >= 16 && (c.batch as number) <= 1024, 'log int in range');
  t.ok((c.lr as number) >= 1e-5 && (c.lr as number) <= 1e-1, 'lr in range');
  t.equal(c.tag, 'v1');
  t.doesNotThrow(() => p.checkConfiguration(c));
}


t.test('sampling honours conditions, nested conditions and forbidden clauses (property test)', async (t) => {
  const p = conditionalProblem();
  for (let seed = 0; seed < 5; seed++) {
    const configs = p.sample(200, seed);
    let violations = 0;
    for (const c of configs) {
      const depth = c.depth as number;
      if ((c.dropout !== undefined) !== (c.activation === 'relu')) violations++;
      if ((c.width2 !== undefined) !== depth > 1) violations++;
      if ((c.width3 !== undefined) !== (depth === 3 && (c.width2 as number) > 10)) violations++;
      if (c.activation === 'gelu' && depth > 1) violations++;
      if (c.width3 !== undefined && (c.width3 as number) < (c.width2 as number)) violations++;
      if (!Number.isInteger(c.units) || !Number.isInteger(c.batch)) violations++;
    }
    t.equal(violations, 0, `seed ${seed}: no violation in 200 samples`);
  }
  checkValid(t, p, p.sample(1, 99)[0]!);
  // Every categorical value and both branches appear.
  const many = p.sample(500, 7);
  t.same(new Set(many.map((c) => c.activation)), new Set(['relu', 'tanh', 'gelu']));
  t.ok(many.some((c) => c.width3 !== undefined) && many.some((c) => c.width2 === undefined));
  // Log-uniform prior: about half the mass below the geometric midpoint.
  const below = many.filter((c) => (c.lr as number) < 1e-3).length / many.length;
  t.ok(below > 0.4 && below < 0.6, `log-uniform median near 1e-3 (${below})`);
});

t.test('encoding round-trips and canonicalizes inactive values', async (t) => {
  const p = conditionalProblem();
  const rng = new Rng(3);
  const rows = p.sampleEncoded(rng, 300);
  const d = p.size;
  for (let i = 0; i < 300; i++) {
    const c = p.decode(rows, i * d);
    const back = p.encode(c);
    t.same(Array.from(back), Array.from(rows.subarray(i * d, i * d + d)), 'decode/encode is identity on canonical rows');
    if (i > 20) break;
  }
  const row = p.encode({ lr: 0.01, units: 9, x: 0.5, activation: 'tanh', depth: 1, batch: 64, tag: 'v1' });
  t.equal(row[p.hyperparameterNames.indexOf('lr')], -2, 'log10 encoding');
  t.equal(row[p.hyperparameterNames.indexOf('dropout')], 0, 'inactive float takes its lower bound');
  t.equal(row[p.hyperparameterNames.indexOf('activation')], 1, 'categorical label code');
  t.equal(row[p.hyperparameterNames.indexOf('width2')], 1, 'inactive int takes its lower bound');
  // Snapping: integers round, choices go to the nearest value, inactive values reset.
  const messy = Float64Array.from(row);
  messy[p.hyperparameterNames.indexOf('units')] = 100.4;
  messy[p.hyperparameterNames.indexOf('depth')] = 2.2;
  messy[p.hyperparameterNames.indexOf('dropout')] = 0.3;
  p.canonicalize(messy);
  const c = p.decode(messy);
  t.equal(c.units, 100);
  t.equal(c.depth, 2);
  t.equal(c.dropout, undefined, 'dropout inactive for tanh');
  t.equal(messy[p.hyperparameterNames.indexOf('dropout')], 0);
});

t.test('add() shapes, defaults and errors', async (t) => {
  const p = new HpProblem();
  p.add('a', [1, 10]).add('b', [0, 1], { type: 'float' }).add('c', [0.5, 2]).add('d', ['x', 'y']).add('e', [1, 2, 4]);
  p.add('f', { low: 1, high: 100, prior: 'log-uniform' }).add('g', true).add('h', [1, 1000, 'log-uniform']);
  t.same(
    p.hyperparameters.map((h) => h.kind),
    ['int', 'float', 'float', 'categorical', 'ordinal', 'int', 'constant', 'int'],
  );
  t.same(p.defaultConfiguration, { a: 6, b: 0.5, c: 1.25, d: 'x', e: 1, f: 10, g: true, h: 32 });
  const codes = (fn: () => void) => {
    try {
      fn();
      return 'none';
    } catch (e) {
      return (e as HpoError).code;
    }
  };
  t.equal(codes(() => p.add('a', [0, 1])), 'HPO_INVALID_HYPERPARAMETER', 'duplicate name');
  t.equal(codes(() => new HpProblem().add('z', [2, 1])), 'HPO_INVALID_HYPERPARAMETER', 'low >= high');
  t.equal(codes(() => new HpProblem().add('z', [0, 1], { prior: 'log-uniform' })), 'HPO_INVALID_HYPERPARAMETER', 'log with 0');
  t.equal(codes(() => new HpProblem().add('z', [0.5, 1], { type: 'int' })), 'HPO_INVALID_HYPERPARAMETER', 'int with float bounds');
  t.equal(codes(() => p.addCondition('a', { parent: 'nope', equals: 1 })), 'HPO_INVALID_CONDITION');
  const q = new HpProblem().add('u', ['p', 'q']).add('v', ['p', 'q']);
  q.addCondition('u', { parent: 'v', equals: 'p' });
  t.equal(codes(() => q.addCondition('v', { parent: 'u', equals: 'p' })), 'HPO_INVALID_CONDITION', 'cycles rejected');
  t.equal(codes(() => q.addForbidden({ equals: { w: 1 } })), 'HPO_INVALID_FORBIDDEN');
  t.equal(codes(() => p.checkConfiguration({ ...p.defaultConfiguration, a: 11 })), 'HPO_INVALID_CONFIG');
  t.equal(codes(() => p.checkConfiguration({ ...p.defaultConfiguration, zz: 1 })), 'HPO_INVALID_CONFIG');
});

t.test('constraint function and exhausted sampling', async (t) => {
  const p = new HpProblem().add('a', [0, 1], { type: 'float' }).add('b', [0, 1], { type: 'float' });
  p.setConstraint((c) => (c.a as number) + (c.b as number) <= 1);
  const s = p.sample(300, 1);
  t.ok(s.every((c) => (c.a as number) + (c.b as number) <= 1), 'constraint honoured');
  p.setConstraint(() => false);
  t.throws(() => p.sample(1, 1), { code: 'HPO_SAMPLING_EXHAUSTED' });
});

t.test('problem files: YAML and JSON, with file:line:field errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hpo-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const yamlPath = join(dir, 'p.yaml');
  writeFileSync(
    yamlPath,
    [
      'lr: { low: 1.0e-5, high: 1.0e-1, prior: log-uniform, default: 1.0e-3 }',
      'units: { low: 8, high: 512 }',
      'x: { low: 0.0, high: 1.0 }',
      'dropout: { low: 0.0, high: 0.5 }',
      'activation: [relu, tanh, gelu]',
      'depth: { sequence: [1, 2, 3] }',
      'conditions:',
      '  - { child: dropout, parent: activation, in: [relu] }',
      'forbidden:',
      '  - { equals: { activation: gelu, depth: 3 } }',
      '',
    ].join('\n'),
  );
  const p = HpProblem.fromFile(yamlPath);
  t.same(
    p.hyperparameters.map((h) => `${h.kind}:${h.name}`),
    ['float:lr', 'int:units', 'float:x', 'float:dropout', 'categorical:activation', 'ordinal:depth'],
  );
  t.equal(p.defaultConfiguration.lr, 1e-3);
  t.equal(p.conditionList.length, 1);
  t.equal(p.forbiddenList.length, 1);
  const j = HpProblem.fromText(JSON.stringify({ a: { low: 0.0, high: 2 }, b: ['u', 'v'] }, null, 1).replace('"low": 0', '"low": 0.0'), 'p.json');
  t.same(j.hyperparameters.map((h) => h.kind), ['float', 'categorical']);

  const errorOf = (text: string) => {
    try {
      HpProblem.fromText(text, 'bad.yaml');
    } catch (e) {
      return e as ProblemFileError;
    }
    throw new Error('no error');
  };
  let e = errorOf('a: [1, 2]\nb: { low: 3, high: 1 }\n');
  t.match(e, { code: 'HPO_PROBLEM_FILE', file: 'bad.yaml', line: 2, field: 'b' });
  t.match(e.message, /bad\.yaml:2: field "b": low \(3\) must be below high \(1\)/);
  e = errorOf('a: [1, 2]\nb:\n  low: 1\n  hihg: 3\n');
  t.match(e, { line: 4, field: 'b.hihg' });
  e = errorOf('a: [1, 2]\nconditions:\n  - { child: a, parent: zz, equals: 1 }\n');
  t.match(e, { line: 3, field: 'conditions[0]' });
  t.match(e.message, /unknown parent "zz"/);
  e = errorOf('a: [1,\n');
  t.match(e.message, /syntax error/);
  t.throws(() => HpProblem.fromFile(join(dir, 'missing.yaml')), { code: 'HPO_PROBLEM_FILE' });
});
