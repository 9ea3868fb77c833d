import { CBO, RandomSearch } from '../../client/hpo/index.js';
import { TEST_FUNCTIONS } from './functions.js';
const names = (process.argv[2] ?? '').split(',').filter(Boolean);
const seeds = Number(process.argv[3] ?? 3);
const evals = Number(process.argv[4] ?? 200);
const extra = JSON.parse(process.argv[5] ?? '{}');
for (const tf of TEST_FUNCTIONS.filter((t) => names.length === 0 || names.includes(t.name))) {
  const res: number[] = [];
  const t0 = Date.now();
  for (let s = 0; s < seeds; s++) {
    const opt = extra.random ? new RandomSearch(tf.problem(), { seed: s }) : new CBO(tf.problem(), { seed: s, ...extra });
    let best = Infinity;
    for (let i = 0; i < evals; i++) {
      const [c] = opt.ask(1);
      const y = tf.f(c!);
      best = Math.min(best, y);
      opt.tell([{ config: c!, objective: -y }]);
    }
    res.push(best - tf.fStar);
  }
  res.sort((a, b) => a - b);
  console.log(tf.name, 'median', res[Math.floor(res.length / 2)]!.toPrecision(4), 'all', res.map((r) => r.toPrecision(3)).join(' '), `${((Date.now() - t0) / seeds / 1000).toFixed(1)}s/run`);
}
