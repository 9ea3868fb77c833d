// Entry point of worker threads and child processes of the thread and process backends: runs one job at a time,
// forwards intermediate values to the host and applies its stop decisions.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LocalRunningJob } from './job.js';
import { runToOutcome } from './module.js';
import { errorMessage } from './pool.js';
import type { HostMessage, WorkerMessage } from './wire.js';

type Send = (m: WorkerMessage) => void;

function channel(): { send: Send; listen: (fn: (m: HostMessage) => void) => void } {
  if (!isMainThread && parentPort) {
    const port = parentPort;
    return { send: (m) => port.postMessage(m), listen: (fn) => port.on('message', fn) };
  }
  if (process.send) {
    return {
      send: (m) => void process.send!(m),
      listen: (fn) => {
        process.on('message', (m) => fn(m as HostMessage));
        // The host went away: nothing left to work for.
        process.on('disconnect', () => process.exit(0));
      },
    };
  }
  throw new Error('worker-main.js must run as a worker thread or a forked child process');
}

const { send, listen } = channel();
const stopFlag: Int32Array | undefined =
  !isMainThread && workerData && (workerData as { stopFlag?: SharedArrayBuffer }).stopFlag
    ? new Int32Array((workerData as { stopFlag: SharedArrayBuffer }).stopFlag)
    : undefined;

let current: LocalRunningJob | undefined;
let seq = 0;
const waiting = new Map<number, (d: { stop: boolean }) => void>();

listen((msg) => {
  if (msg.type === 'run') void runJob(msg);
  else if (msg.type === 'decision') {
    waiting.get(msg.seq)?.({ stop: msg.stop });
    waiting.delete(msg.seq);
  } else if (msg.type === 'stop') current?.requestStop();
});

async function runJob(msg: Extract<HostMessage, { type: 'run' }>): Promise<void> {
  const token = msg.token;
  const job = new LocalRunningJob(
    msg.spec.id,
    msg.spec.parameters,
    (step, objective) =>
      new Promise((resolve) => {
        const s = ++seq;
        waiting.set(s, resolve);
        send({ type: 'record', seq: s, step, objective });
      }),
    {
      onChild: (pid) => send({ type: 'child', pid }),
      externalStop: stopFlag ? () => Atomics.load(stopFlag, 0) === token : undefined,
    },
  );
  current = job;
  const outcome = await runToOutcome(msg.specifier, msg.exportName, job, msg.runKwargs);
  current = undefined;
  for (const resolve of waiting.values()) resolve({ stop: true });
  waiting.clear();
  try {
    send({ type: 'done', outcome });
  } catch (err) {
    send({ type: 'done', outcome: { kind: 'threw', message: `the run's output cannot be sent to the search: ${errorMessage(err)}` } });
  }
}

send({ type: 'ready' });
