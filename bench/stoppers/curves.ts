// Format of the recorded learning curves (bench/stoppers/curves.json) and their loader.
// The file stores, per epoch, the NUMBER of correct predictions on the validation and test sets: exact, and about
// half the size of 4-decimal accuracies. loadCurves() turns them into accuracies, what every reader uses.

import { readFileSync } from 'node:fs';
import type { MlpConfig } from '../../client/learn/mlp.js';
import { DhtsError } from '../../protocol/errors.js';

export const CURVES_FORMAT = 'deephyper-ts/stopper-curves@2';

export interface RecordedCurve {
  config: MlpConfig;
  /** Validation score (accuracy) after each epoch: what a run reports to the stopper. */
  validation: number[];
  /** Test score after each epoch: used only to measure regret (the test points are never seen by a policy). */
  test: number[];
}

export interface RecordedTask {
  name: string;
  dataset: { generator: string; size: number; seed: number };
  curves: RecordedCurve[];
}

export interface RecordedCurves {
  seed: number;
  maxSteps: number;
  tasks: RecordedTask[];
}

/** One task as stored: correct-prediction counts out of `validationSize` and `testSize` points. */
export interface StoredTask {
  name: string;
  /** Seed of the task's own random stream (data set seed, then one configuration after another). */
  seed: number;
  dataset: { generator: string; size: number; seed: number };
  validationSize: number;
  testSize: number;
  curves: { config: MlpConfig; validation: number[]; test: number[] }[];
}

export interface StoredCurves {
  format: typeof CURVES_FORMAT;
  seed: number;
  maxSteps: number;
  tasks: StoredTask[];
}

export const CURVES_URL = new URL('../../../bench/stoppers/curves.json', import.meta.url);

/** The recorded file is missing, unreadable or of another format version. */
export class CurvesFormatError extends DhtsError<'ERR_STOPPER_CURVES_FORMAT'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STOPPER_CURVES_FORMAT', message, options);
  }
}

/** Read a recorded file and convert its counts to accuracies. */
export function loadCurves(url: URL | string = CURVES_URL): RecordedCurves {
  const path = typeof url === 'string' ? url : url.pathname;
  let stored: StoredCurves;
  try {
    stored = JSON.parse(readFileSync(url, 'utf8')) as StoredCurves;
  } catch (cause) {
    throw new CurvesFormatError(`cannot read recorded curves ${path}: ${(cause as Error).message}`, { cause });
  }
  if (stored.format !== CURVES_FORMAT) {
    throw new CurvesFormatError(`${path}: format is ${JSON.stringify(stored.format)}, expected "${CURVES_FORMAT}"; regenerate it with node dist/bench/stoppers/record.js`);
  }
  return {
    seed: stored.seed,
    maxSteps: stored.maxSteps,
    tasks: stored.tasks.map((task) => ({
      name: task.name,
      dataset: task.dataset,
      curves: task.curves.map((c) => ({
        config: c.config,
        validation: c.validation.map((k) => k / task.validationSize),
        test: c.test.map((k) => k / task.testSize),
      })),
    })),
  };
}
