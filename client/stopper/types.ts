// Contract of early-discarding strategies. Pure: no I/O, no clock; the search loop feeds them and acts on the answer.
// Convention as in DeepHyper: objectives are maximized; `step` is the budget consumed so far (1, 2, ...).
// A stopper's state is a function of the sequence of observe/complete calls only, so replaying a journal rebuilds it.

export interface StopDecision {
  stop: boolean;
  /** Why the run was stopped, kept in the results (e.g. "sha: below rung 2 quantile"). */
  reason?: string;
}

export interface Stopper {
  /** The largest step a run may reach; a run that reaches it is complete. */
  readonly maxSteps: number;
  /** Short name of the policy ("sha", "median", "lce", "constant", "idle"). */
  readonly name?: string;
  /** Record an intermediate objective of run `jobId` at `step`, and decide whether that run must stop now. */
  observe(jobId: string, step: number, objective: number): StopDecision;
  /** Run `jobId` ended (finished, stopped or failed); it no longer competes for continuation. */
  complete(jobId: string): void;
  /**
   * The objective the search should keep for run `jobId` (the last observed value by default; LCModelStopper may
   * return the max or the area under the curve), or undefined when the run observed nothing numeric.
   */
  objectiveOf?(jobId: string): number | undefined;
}
