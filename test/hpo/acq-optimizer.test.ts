// The mixed-variable GA's operators, pinned to pymoo's MixedVariableGA (what DeepHyper's "mixedga" runs).
import t from 'tap';
import { crossoverPair, mixedGa, ParentPairs, StallTermination } from '../../client/hpo/acq-optimizer.js';
import { HpProblem, Rng } from '../../client/hpo/index.js';

t.test('crossover happens with probability 0.9 per mating, then SBX touches each real with probability 0.5', async (t) => {
  const p = new HpProblem().add('a', [0, 1], { type: 'float' }).add('b', [0, 1], { type: 'float' }).add('c', [0, 1], { type: 'float' });
  const pop = Float64Array.from([0.2, 0.4, 0.6, 0.8, 0.1, 0.3]);
  const out = new Float64Array(6);
  const rng = new Rng(7);
  const n = 20_000;
  let copies = 0;
  for (let k = 0; k < n; k++) {
    crossoverPair(p.columns, pop, 0, 3, out, 0, 3, 3, rng);
    if (out.every((v, i) => v === pop[i])) copies++;
  }
  // Children equal their parents when the mating skips crossover (0.1) or SBX skips all three variables (0.9 / 8);
  // without pymoo's 0.9 gate this would be 0.125.
  t.ok(Math.abs(copies / n - (0.1 + 0.9 / 8)) < 0.015, `copies ${copies / n}`);
});

t.test('a categorical is swapped with probability 0.9 x 0.5 (its own crossover, then uniform crossover)', async (t) => {
  const p = new HpProblem().add('h', ['x', 'y', 'z']);
  const pop = Float64Array.from([0, 2]);
  const out = new Float64Array(2);
  const rng = new Rng(3);
  const n = 20_000;
  let swapped = 0;
  let other = 0;
  for (let k = 0; k < n; k++) {
    crossoverPair(p.columns, pop, 0, 1, out, 0, 1, 1, rng);
    if (out[0] === 2 && out[1] === 0) swapped++;
    else if (out[0] !== 0 || out[1] !== 2) other++;
  }
  t.equal(other, 0, 'children are the parents, swapped or not');
  t.ok(Math.abs(swapped / n - 0.45) < 0.015, `swapped ${swapped / n}`);
});

t.test('parent pairs: one permutation of the population per size/2 pairs, never an individual with itself', async (t) => {
  const pairs = new ParentPairs(new Rng(11));
  const seen = new Uint8Array(100);
  for (let k = 0; k < 50; k++) {
    const [a, b] = pairs.next(100);
    seen[a]!++;
    seen[b]!++;
  }
  t.ok(seen.every((c) => c === 1), 'each of 100 individuals mates exactly once in 50 pairs');
  const odd = new ParentPairs(new Rng(12));
  for (let k = 0; k < 1000; k++) {
    const [a, b] = odd.next(5);
    if (a === b || a < 0 || a >= 5 || b < 0 || b >= 5) t.fail(`bad pair ${a}, ${b}`);
  }
});

t.test('termination: tiny improvements add up against a reference that moves only beyond ftol', async (t) => {
  const ftol = 1e-6;
  const creeping = new StallTermination(1, ftol, 30);
  let best = 1;
  let stopped = false;
  for (let g = 0; g < 200 && !stopped; g++) {
    best -= 0.6 * ftol; // below ftol each time, above it every second generation
    stopped = creeping.update(best);
  }
  t.notOk(stopped, 'improvements of 0.6·ftol per generation keep the GA going');

  const flat = new StallTermination(1, ftol, 30);
  const stopsAt: number[] = [];
  for (let g = 1; g <= 45; g++) if (flat.update(g >= 10 ? 1 - 2 * ftol : 1)) stopsAt.push(g);
  t.equal(stopsAt[0], 40, 'stops 30 generations after the last improvement larger than ftol (generation 10)');
});

t.test('the GA improves on its initial population (2-D sphere)', async (t) => {
  const p = new HpProblem().add('x', [-5, 5], { type: 'float' }).add('y', [-5, 5], { type: 'float' });
  const evaluate = (rows: Float64Array, m: number, out: Float64Array) => {
    for (let i = 0; i < m; i++) out[i] = (rows[2 * i]! - 1) ** 2 + (rows[2 * i + 1]! + 2) ** 2;
  };
  const rng = new Rng(5);
  const init = p.sampleEncoded(rng, 200);
  const vals = new Float64Array(200);
  evaluate(init, 200, vals);
  const res = mixedGa(p, evaluate, init, vals, 200, rng);
  t.ok(res.values[0]! < Math.min(...vals) / 100, `best ${res.values[0]} vs initial ${Math.min(...vals)}`);
  t.ok(res.values[0]! < 1e-4);
  t.ok(res.generations > 30 && res.generations <= 1000);
});
