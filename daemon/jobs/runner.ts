/**
 * The job runner: started by the job manager on the head, in place of an entrypoint whose resources the head's node
 * cannot hold. It joins the cluster as a driver, creates an EntrypointSupervisor actor with those resources (so the
 * scheduler picks a node and reserves them), copies the entrypoint's output to its own stdout (the job's log), passes
 * a stop on, and exits with the entrypoint's exit code.
 *
 * Input: DHTS_JOB_SPEC (JSON: EntrypointSpec plus `resources`), DHTS_ADDRESS and DHTS_TOKEN in the environment.
 */
import { get, init, kill, nodes, remote, shutdown, type Resources } from '../../client/index.js';
import { UNSCHEDULABLE_EXIT_CODE } from './manager.js';
import type { EntrypointSpec, EntrypointSupervisor, OutputChunk } from './supervisor.js';

const STOP_GRACE_MS = 3000;
const POLL_MS = 100;

export interface RunnerSpec extends EntrypointSpec {
  readonly resources: Resources;
}

async function main(): Promise<number> {
  const spec = JSON.parse(process.env.DHTS_JOB_SPEC ?? '{}') as RunnerSpec;
  await init({ address: 'auto', logToDriver: false });
  try {
    const alive = (await nodes()).filter((n) => n.Alive);
    const fits = alive.some((n) => Object.entries(spec.resources).every(([k, v]) => (n.Resources[k] ?? 0) >= v));
    if (!fits) {
      const want = Object.entries(spec.resources).map(([k, v]) => `${v} ${k}`).join(', ');
      process.stdout.write(`The entrypoint needs ${want}, which no node of the cluster has (${alive.length} alive node(s)).\n`);
      return UNSCHEDULABLE_EXIT_CODE;
    }
    const { CPU, GPU, memory, ...custom } = spec.resources;
    const Supervisor = remote<typeof EntrypointSupervisor>(new URL('./supervisor.js', import.meta.url), 'EntrypointSupervisor', {
      numCpus: CPU ?? 0,
      numGpus: GPU,
      memory,
      resources: custom,
      maxRestarts: 0,
    });
    const supervisor = Supervisor.remote({ jobId: spec.jobId, entrypoint: spec.entrypoint, env: spec.env, workingDir: spec.workingDir });
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void get(supervisor.stop.remote('SIGTERM')).catch(() => {});
      setTimeout(() => void get(supervisor.stop.remote('SIGKILL')).catch(() => {}), STOP_GRACE_MS).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const where = await get(supervisor.start.remote());
    process.stderr.write(`(dhts job runner) entrypoint running on ${where.nodeIp || where.hostname}, pid ${where.pid}\n`);
    let offset = 0;
    for (;;) {
      const chunk: OutputChunk = await get(supervisor.read.remote(offset));
      if (chunk.data) process.stdout.write(chunk.data);
      offset = chunk.next;
      if (chunk.done) {
        kill(supervisor);
        return chunk.exitCode ?? 128 + 15;
      }
      if (!chunk.data) await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`(dhts job runner) ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
