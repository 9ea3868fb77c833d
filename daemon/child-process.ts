// Stopping a child process the polite way first: shared by the embedded cluster, the CLI and the test fixtures.
import type { ChildProcess } from 'node:child_process';

/** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves once it has exited. */
export async function terminateChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
