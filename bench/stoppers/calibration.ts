// Calibration of the Bayesian curve fit: how often the central 90% posterior interval of f(maxSteps) covers the
// truth when a curve family is fitted to the first n noisy points of a curve drawn from that same family.
// `node dist/bench/stoppers/calibration.js [--curves N] [--models mmf4,pow3] [--noise 0.01,0.03]`.
// Truths are drawn from ranges of realistic learning curves (start 0.1–0.5, plateau 0.6–0.98, half-way step 2–20).

import { parseArgs } from 'node:util';
import { SeededRandom } from '../../client/learn/random.js';
import { curveModel, fitBayesianCurve, type CurveModelName } from '../../client/stopper/index.js';

const { values } = parseArgs({
  options: {
    curves: { type: 'string', default: '60' },
    models: { type: 'string', default: 'mmf4,pow3' },
    noise: { type: 'string', default: '0.01,0.03' },
    sizes: { type: 'string', default: '5,10,20' },
  },
});
const numCurves = Number(values.curves);
const maxSteps = 50;

/** Truth parameters for a family: a saturating learning curve with a random start, plateau and half-way step. */
function drawTruth(name: CurveModelName, rng: SeededRandom): number[] {
  const start = rng.uniform(0.1, 0.5);
  const plateau = rng.uniform(0.6, 0.98);
  const half = Math.exp(rng.uniform(Math.log(2), Math.log(20)));
  if (name === 'mmf4') {
    const d = rng.uniform(0.7, 2.5);
    return [start, half ** d, plateau, d];
  }
  if (name === 'pow3') {
    // ρ0 − ρ1 z^ρ2 with ρ2 < 0: value (plateau − (plateau − start)) at z = 1, half-way at z = half.
    const e = -Math.log(2) / Math.log(half);
    return [plateau, plateau - start, e];
  }
  throw new Error(`no truth generator for ${name}`);
}

const sizes = values.sizes.split(',').map(Number);
const noises = values.noise.split(',').map(Number);
console.log(`# coverage of the true f(${maxSteps}) by the central 90% posterior interval, ${numCurves} curves per cell; median ms per fit`);
console.log(`| model | noise | ${sizes.map((n) => `n=${n} cover | ms`).join(' | ')} |`);
console.log(`|---|---|${sizes.map(() => '---|---').join('|')}|`);
for (const name of values.models.split(',') as CurveModelName[]) {
  const model = curveModel(name)!;
  for (const noise of noises) {
    const cells: string[] = [];
    for (const n of sizes) {
      const rng = new SeededRandom(1000 + n);
      let covered = 0;
      const times: number[] = [];
      for (let c = 0; c < numCurves; c++) {
        const truth = drawTruth(name, rng);
        const z = Array.from({ length: n }, (_, i) => i + 1);
        const y = z.map((s) => model.f(s, truth) + noise * rng.normal());
        const started = performance.now();
        const fit = fitBayesianCurve(model, z, y, c);
        times.push(performance.now() - started);
        const draws = fit.quantiles(maxSteps, [0.05, 0.95]);
        const target = model.f(maxSteps, truth);
        if (target >= draws[0]! && target <= draws[1]!) covered++;
      }
      times.sort((a, b) => a - b);
      cells.push(`${(covered / numCurves).toFixed(2)} | ${times[Math.floor(times.length / 2)]!.toFixed(1)}`);
    }
    console.log(`| ${name} | ${noise} | ${cells.join(' | ')} |`);
  }
}
