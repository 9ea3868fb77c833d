// Drive a stopper the way the search loop does: a run reports steps 1..maxSteps until told to stop.
import type { StopDecision, Stopper } from '../../client/stopper/index.js';

export interface RunOutcome {
  stoppedAt: number;
  reason: string | undefined;
}

/** Run `jobId` on curve(step) to the end or until stopped; complete() it; return where and why it stopped. */
export function runToEnd(stopper: Stopper, jobId: string, curve: (step: number) => number): RunOutcome {
  let decision: StopDecision = { stop: false };
  let step = 0;
  while (!decision.stop) {
    step++;
    decision = stopper.observe(jobId, step, curve(step));
    if (step > stopper.maxSteps) throw new Error(`${jobId} ran past maxSteps`);
  }
  stopper.complete(jobId);
  return { stoppedAt: step, reason: decision.reason };
}

export const flat = (value: number) => () => value;

/** A saturating curve from `start` towards `asymptote` with rate `rate` (an mmf4-like shape). */
export const saturating = (start: number, asymptote: number, halfStep: number) => (step: number) =>
  start + ((asymptote - start) * step) / (halfStep + step);
