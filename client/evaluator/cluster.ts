// Placeholder replaced below once the runtime SDK lands.
import { EvaluatorError } from './errors.js';
import type { Evaluator } from './evaluator.js';
import type { ResolvedSource } from './factory.js';

export const ClusterEvaluator = {
  async create(_source: ResolvedSource, _options: unknown): Promise<Evaluator> {
    throw new EvaluatorError('CLUSTER_UNAVAILABLE', 'the cluster backend needs the runtime SDK (client/index.ts)');
  },
};
