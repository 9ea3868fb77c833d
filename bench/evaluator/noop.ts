// The no-op objective of the overhead benchmark.
import type { RunningJob } from '../../client/evaluator/index.js';

export function noop(job: RunningJob): number {
  return job.parameters.x as number;
}
