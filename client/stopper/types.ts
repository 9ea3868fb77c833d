// Contract of early-discarding strategies. Pure: no I/O, no clock; the search loop feeds them and acts on the answer.
// Convention as in DeepHyper: objectives are maximized; `step` is the budget consumed so far (1, 2, ...).

export interface StopDecision {
  stop: boolean;
  /** Why the run was stopped, kept in the results (e.g. "sha: below rung 2 quantile"). */
  reason?: string;
}

export interface Stopper {
  /** The largest step a run may reach; a run that reaches it is complete. */
  readonly maxSteps: number;
  /** Record an intermediate objective of run `jobId` at `step`, and decide whether that run must stop now. */
  observe(jobId: string, step: number, objective: number): StopDecision;
  /** Run `jobId` ended (finished, stopped or failed); it no longer competes for continuation. */
  complete(jobId: string): void;
}
