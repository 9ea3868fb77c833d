// Format of the recorded learning curves (bench/stoppers/curves.json).

import type { MlpConfig } from '../../client/learn/mlp.js';

export interface RecordedCurve {
  config: MlpConfig;
  /** Validation score (accuracy) after each epoch: what a run reports to the stopper. */
  validation: number[];
  /** Test score after each epoch: used only to measure the regret of the final choice. */
  test: number[];
}

export interface RecordedTask {
  name: string;
  dataset: { generator: string; size: number; seed: number };
  curves: RecordedCurve[];
}

export interface RecordedCurves {
  format: 'deephyper-ts/stopper-curves@1';
  seed: number;
  maxSteps: number;
  tasks: RecordedTask[];
}

export const CURVES_URL = new URL('../../../bench/stoppers/curves.json', import.meta.url);
