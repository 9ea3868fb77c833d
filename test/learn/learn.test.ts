import t from 'tap';
import {
  LearnConfigError,
  Mlp,
  SeededRandom,
  makeDigits,
  makeMoons,
  makeRegression,
  makeSpirals,
  trainValidationSplit,
} from '../../client/learn/index.js';

t.test('SeededRandom: same seed, same stream; different seeds differ; normal has unit moments', async (t) => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const sa = Array.from({ length: 5 }, () => a.next());
  t.same(sa, Array.from({ length: 5 }, () => b.next()));
  t.not(sa[0], c.next());
  const r = new SeededRandom(1);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  t.ok(Math.abs(sum / n) < 0.03, 'mean near 0');
  t.ok(Math.abs(sq / n - 1) < 0.05, 'variance near 1');
});

t.test('data sets: shapes, balanced classes, determinism from the seed', async (t) => {
  const moons = makeMoons({ size: 300, seed: 7 });
  t.equal(moons.x.length, 600);
  t.equal(moons.numClasses, 2);
  t.equal(moons.y.filter((v) => v === 1).length, 150);
  t.same(Array.from(makeMoons({ size: 300, seed: 7 }).x), Array.from(moons.x));
  t.notSame(Array.from(makeMoons({ size: 300, seed: 8 }).x), Array.from(moons.x));
  const spirals = makeSpirals({ size: 300, arms: 3, seed: 1 });
  t.equal(spirals.numClasses, 3);
  t.equal(spirals.y.filter((v) => v === 2).length, 100);
  const digits = makeDigits({ size: 200, seed: 1 });
  t.equal(digits.numFeatures, 64);
  t.equal(digits.numClasses, 10);
  const reg = makeRegression({ size: 100, features: 6, seed: 1 });
  t.equal(reg.task, 'regression');
  t.equal(reg.x.length, 600);
  t.throws(() => makeMoons({ size: 1 }), LearnConfigError);
  t.throws(() => makeSpirals({ arms: 1 }), { code: 'ERR_LEARN_CONFIG', field: 'arms' });
});

t.test('trainValidationSplit: sizes and training-set standardization', async (t) => {
  const { train, validation } = trainValidationSplit(makeMoons({ size: 400, seed: 1 }), { validationFraction: 0.25, seed: 3 });
  t.equal(train.size, 300);
  t.equal(validation.size, 100);
  for (let j = 0; j < 2; j++) {
    let mean = 0;
    for (let i = 0; i < train.size; i++) mean += train.x[i * 2 + j]!;
    t.ok(Math.abs(mean / train.size) < 1e-9, `feature ${j} centred`);
  }
  t.throws(() => trainValidationSplit(makeMoons({ size: 10 }), { validationFraction: 0.01 }), LearnConfigError);
});

t.test('Mlp learns moons, and the same seed gives the same learning curve', async (t) => {
  const data = trainValidationSplit(makeMoons({ size: 800, seed: 1 }), { seed: 2 });
  const curve = (seed: number) => new Mlp(data, { hiddenUnits: 16, seed }).fit(8).map((r) => r.validation.score);
  const a = curve(5);
  t.same(curve(5), a, 'bit-identical curve for the same seed');
  t.notSame(curve(6), a);
  t.ok(a[a.length - 1]! > 0.85, `final accuracy ${a[a.length - 1]} > 0.85`);
  t.ok(a[a.length - 1]! > a[0]! - 0.02, 'does not get worse');
});

t.test('Mlp: every activation and optimizer trains; dropout and weight decay run', async (t) => {
  const data = trainValidationSplit(makeSpirals({ size: 600, seed: 1 }), { seed: 2 });
  for (const activation of ['relu', 'tanh', 'gelu'] as const) {
    for (const optimizer of ['sgd', 'adam'] as const) {
      const m = new Mlp(data, {
        activation,
        optimizer,
        layers: 2,
        hiddenUnits: 16,
        learningRate: optimizer === 'sgd' ? 0.05 : 0.01,
        dropout: 0.1,
        weightDecay: 1e-4,
        seed: 1,
      });
      const reports = m.fit(6);
      t.equal(m.epoch, 6);
      const first = reports[0]!;
      const last = reports[5]!;
      t.ok(Number.isFinite(last.trainLoss), `${activation}/${optimizer}: finite loss`);
      t.ok(last.trainLoss < first.trainLoss, `${activation}/${optimizer}: training loss decreases`);
    }
  }
});

t.test('Mlp: regression reports R², digits gets well above chance', async (t) => {
  const reg = new Mlp(trainValidationSplit(makeRegression({ size: 800, seed: 1 }), { seed: 1 }), { seed: 1 });
  const r = reg.fit(15);
  t.ok(r[14]!.validation.r2! > 0.6, `R² ${r[14]!.validation.r2}`);
  t.equal(r[14]!.validation.score, r[14]!.validation.r2);
  const digits = new Mlp(trainValidationSplit(makeDigits({ size: 1000, seed: 1 }), { seed: 1 }), { seed: 1 });
  const acc = digits.fit(8)[7]!.validation.accuracy!;
  t.ok(acc > 0.5, `digits accuracy ${acc} > 0.5 (chance 0.1)`);
});

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LearnConfigError ? error.field : undefined;
  }
  return undefined;
}

t.test('Mlp rejects bad configurations with the field named', async (t) => {
  const data = trainValidationSplit(makeMoons({ size: 100 }));
  t.equal(fieldOf(() => new Mlp(data, { hiddenUnits: 0 })), 'hiddenUnits');
  t.equal(fieldOf(() => new Mlp(data, { dropout: 1 })), 'dropout');
  t.equal(fieldOf(() => new Mlp(data, { activation: 'sigmoid' as never })), 'activation');
  t.equal(fieldOf(() => new Mlp(data, { optimizer: 'lbfgs' as never })), 'optimizer');
});
