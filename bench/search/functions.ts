// DeepHyper's benchmark test functions (minimization form, definitions in shared/reference/test-functions.md).
// The search maximizes −f; regret = f(best found) − f*.
import { HpProblem, type Config } from '../../client/hpo/index.js';

export interface TestFunction {
  name: string;
  problem: () => HpProblem;
  f: (c: Config) => number;
  fStar: number;
}

function boxProblem(d: number, lo: number, hi: number): HpProblem {
  const p = new HpProblem();
  for (let i = 0; i < d; i++) p.add(`x${i}`, [lo, hi], { type: 'float' });
  return p;
}

function vec(c: Config, d: number): number[] {
  return Array.from({ length: d }, (_, i) => c[`x${i}`] as number);
}

const ackley = (x: number[]) => {
  const d = x.length;
  const s1 = x.reduce((s, v) => s + v * v, 0);
  const s2 = x.reduce((s, v) => s + Math.cos(2 * Math.PI * v), 0);
  return -20 * Math.exp(-0.2 * Math.sqrt(s1 / d)) - Math.exp(s2 / d) + 20 + Math.E;
};

const branin = (x0: number, x1: number) =>
  (x1 - (5.1 * x0 * x0) / (4 * Math.PI * Math.PI) + (5 * x0) / Math.PI - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x0) + 10;

const griewank = (x: number[]) => {
  let s = 0;
  let p = 1;
  x.forEach((v, i) => {
    s += (v * v) / 4000;
    p *= Math.cos(v / Math.sqrt(i + 1));
  });
  return s - p + 1;
};

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((r) => r.map((v) => v * 1e-4));
const hartmann6 = (x: number[]) => {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * (x[j]! - H_P[i]![j]!) ** 2;
    s += H_ALPHA[i]! * Math.exp(-inner);
  }
  return -s;
};

const levy = (x: number[]) => {
  const w = x.map((v) => 1 + (v - 1) / 4);
  const d = w.length;
  let s = Math.sin(Math.PI * w[0]!) ** 2;
  for (let i = 0; i < d - 1; i++) s += (w[i]! - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i]! + 1) ** 2);
  s += (w[d - 1]! - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]!) ** 2);
  return s;
};

const michal = (x: number[]) => -x.reduce((s, v, i) => s + Math.sin(v) * Math.sin(((i + 1) * v * v) / Math.PI) ** 20, 0);

const rosen = (x: number[]) => {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (x[i]! - 1) ** 2;
  return s;
};

const schwefel = (x: number[]) => 418.9829 * x.length - x.reduce((s, v) => s + v * Math.sin(Math.sqrt(Math.abs(v))), 0);

const S_BETA = [1, 2, 2, 4, 4, 6, 3, 7, 5, 5].map((v) => v / 10);
const S_C = [
  [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
  [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
  [4, 1, 8, 6, 3, 2, 5, 8, 6, 7],
  [4, 1, 8, 6, 7, 9, 3, 1, 2, 3.6],
];
const shekel = (x: number[]) => {
  let s = 0;
  for (let i = 0; i < 10; i++) {
    let inner = 0;
    for (let j = 0; j < 4; j++) inner += (x[j]! - S_C[j]![i]!) ** 2;
    s += 1 / (inner + S_BETA[i]!);
  }
  return -s;
};

// Func2C (CoCaBO): two categorical choices select sub-functions of two continuous variables.
const rosen2 = (a: number, b: number) => (100 * (b - a * a) ** 2 + (a - 1) ** 2) / 300;
const camel = (a: number, b: number) => ((4 - 2.1 * a * a + (a ** 4) / 3) * a * a + a * b + (-4 + 4 * b * b) * b * b) / 10;
const beale = (a: number, b: number) => {
  const x = 2 * a;
  const y = 2 * b;
  return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2) / 50;
};
const g = (h: number, a: number, b: number) => (h === 0 ? rosen2(a, b) : h === 1 ? camel(a, b) : beale(a, b));

export const TEST_FUNCTIONS: TestFunction[] = [
  { name: 'ackley5', problem: () => boxProblem(5, -36.768, 28.768), f: (c) => ackley(vec(c, 5)), fStar: 0 },
  {
    name: 'branin',
    problem: () => new HpProblem().add('x0', [-5, 10], { type: 'float' }).add('x1', [0, 15], { type: 'float' }),
    f: (c) => branin(c.x0 as number, c.x1 as number),
    fStar: 0.39788735772973816,
  },
  { name: 'griewank5', problem: () => boxProblem(5, -604, 596), f: (c) => griewank(vec(c, 5)), fStar: 0 },
  { name: 'hartmann6', problem: () => boxProblem(6, 0, 1), f: (c) => hartmann6(vec(c, 6)), fStar: -3.32236801141551 },
  { name: 'levy5', problem: () => boxProblem(5, -10, 10), f: (c) => levy(vec(c, 5)), fStar: 0 },
  { name: 'michal5', problem: () => boxProblem(5, 0, Math.PI), f: (c) => michal(vec(c, 5)), fStar: -4.687658 },
  { name: 'rosenbrock5', problem: () => boxProblem(5, -5, 10), f: (c) => rosen(vec(c, 5)), fStar: 0 },
  { name: 'schwefel5', problem: () => boxProblem(5, -500, 500), f: (c) => schwefel(vec(c, 5)), fStar: 0 },
  { name: 'shekel4', problem: () => boxProblem(4, 0, 10), f: (c) => shekel(vec(c, 4)), fStar: -10.536409816692 },
  {
    name: 'func2c',
    problem: () =>
      new HpProblem()
        .add('h1', ['0', '1', '2'])
        .add('h2', ['0', '1', '2', '3', '4'])
        .add('x1', [-1, 1], { type: 'float' })
        .add('x2', [-1, 1], { type: 'float' }),
    f: (c) => {
      const h1 = Number(c.h1);
      const h2 = Number(c.h2);
      const x1 = c.x1 as number;
      const x2 = c.x2 as number;
      return g(h1, x1, x2) + g(h2, x1, x2);
    },
    fStar: -0.2063256905,
  },
];
