// The parsers of dhts flag values: each refuses a bad value with a message naming the flag and the value.
import t from 'tap';
import { InvalidArgumentError } from 'commander';
import { integerAtLeast, keyValue, nonNegativeNumber, positiveNumber } from '../../daemon/cli/flags.js';

t.test('nonNegativeNumber', async (t) => {
  const parse = nonNegativeNumber('--num-cpus');
  t.equal(parse('0'), 0);
  t.equal(parse('2.5'), 2.5);
  for (const bad of ['', ' ', '-1', 'abc', 'Infinity', 'NaN']) {
    t.throws(() => parse(bad), new InvalidArgumentError(`--num-cpus must be a non-negative number, got '${bad}'`), JSON.stringify(bad));
  }
});

t.test('positiveNumber', async (t) => {
  const parse = positiveNumber('--timeout');
  t.equal(parse('0.5'), 0.5);
  for (const bad of ['0', '-2', '', 'x']) t.throws(() => parse(bad), /--timeout must be a positive number, got/, JSON.stringify(bad));
});

t.test('integerAtLeast', async (t) => {
  t.equal(integerAtLeast('--workers', 1)('4'), 4);
  t.equal(integerAtLeast('--seed', 0)('0'), 0);
  t.throws(() => integerAtLeast('--workers', 1)('0'), /--workers must be a positive integer, got '0'/);
  t.throws(() => integerAtLeast('--workers', 1)('1.5'), /--workers must be a positive integer/);
  t.throws(() => integerAtLeast('--seed', 0)('-1'), /--seed must be a non-negative integer/);
  t.throws(() => integerAtLeast('--seed', 0)('1e3'), /--seed must be a non-negative integer/);
  t.throws(() => integerAtLeast('--seed', 0)('99999999999999999999'), /--seed must be a non-negative integer/);
  t.throws(() => integerAtLeast('--n', 3)('2'), /--n must be an integer ≥ 3/);
});

t.test('keyValue collects repeated KEY=VALUE flags', async (t) => {
  const parse = keyValue('--env');
  t.same(parse('B=2', parse('A=1=x')), { A: '1=x', B: '2' });
  t.same(parse('EMPTY='), { EMPTY: '' });
  t.throws(() => parse('=1'), /--env expects KEY=VALUE, got '=1'/);
  t.throws(() => parse('NOEQ'), /--env expects KEY=VALUE/);
});
