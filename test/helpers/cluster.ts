/**
 * A real cluster for a test: a head and agents as child processes (the `dhts` CLI with --block), on port 0, in a
 * temp dir, and this test process connected to it as the driver.
 *
 *   const c = await withCluster(t, { agents: [{ numCpus: 2 }, { numCpus: 1, resources: { bigmem: 1 } }] });
 *   c.agents[1].nodeId; c.agents[1].kill('SIGKILL'); await c.addAgent({ numCpus: 1 });
 *
 * Teardown (registered on `t`) disconnects the driver, stops every process it started, and fails the test if any
 * of them (or their workers) is still alive afterwards.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, shutdown } from '../../client/index.js';
import { terminateChild } from '../../daemon/child-process.js';

export const CLI = fileURLToPath(new URL('../../daemon/cli/main.js', import.meta.url));
/** URL of the compiled test fixtures module (functions and actor classes). */
export const FIXTURES = new URL('../cluster/fixtures/tasks.js', import.meta.url);

export interface AgentSpec {
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  labels?: Record<string, string>;
  /** Join through another address (e.g. a proxy) instead of the head's. */
  address?: string;
}

export interface ClusterOptions {
  agents?: AgentSpec[];
  /** How long the head waits for a silent or disconnected agent before declaring its node dead. */
  nodeTimeoutMs?: number;
  heartbeatMs?: number;
  /** Connect this process as the driver (default true). */
  connect?: boolean;
  logToDriver?: boolean;
  /** Interface the head listens on (default 127.0.0.1). */
  bind?: string;
}

export interface RunningAgent {
  nodeId: string;
  pid: number;
  process: ChildProcess;
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<void>;
}

export interface TestCluster {
  address: string;
  /** Children started for this cluster outside addAgent (e.g. in network namespaces), stopped at teardown. */
  adopt(child: ChildProcess): void;
  token: string;
  tempDir: string;
  headPid: number;
  agents: RunningAgent[];
  addAgent(spec: AgentSpec): Promise<RunningAgent>;
  /** Pids of every live process under the head and agents (workers included). */
  descendants(): number[];
}

interface Tap {
  teardown(fn: () => void | Promise<void>): void;
  fail(message: string): void;
}

interface Ready {
  kind: 'ready' | 'failed';
  address?: string;
  token?: string;
  nodeId?: string;
  message?: string;
}

function startDaemon(args: string[]): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, [CLI, 'start', '--block', '--exit-with-parent', ...args], {
    stdio: ['ignore', 'ignore', process.env.DHTS_TEST_VERBOSE ? 'inherit' : 'ignore', 'ipc'],
    // tap's loaders (NODE_OPTIONS) would slow every daemon and worker start-up for nothing.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon ${args.join(' ')} did not start within 20 s`));
    }, 20_000);
    child.once('message', (m: Ready) => {
      clearTimeout(timer);
      if (m.kind !== 'ready') {
        child.kill('SIGKILL');
        reject(new Error(`daemon failed: ${m.message}`));
      } else resolve({ child, ready: m });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon ${args.join(' ')} exited with code ${code}`));
    });
  });
}

function childrenOf(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function treeOf(pid: number): number[] {
  const all: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    for (const c of childrenOf(p)) {
      all.push(c);
      stack.push(c);
    }
  }
  return all;
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function withCluster(t: Tap, options: ClusterOptions = {}): Promise<TestCluster> {
  const tempDir = mkdtempSync(join(tmpdir(), 'dhts-test-'));
  const timing = ['--node-timeout-ms', String(options.nodeTimeoutMs ?? 3000)];
  if (options.heartbeatMs) timing.push('--heartbeat-ms', String(options.heartbeatMs));
  const processes: ChildProcess[] = [];
  const seen = new Set<number>();
  let connected = false;

  // Registered first: whatever happens below, processes and the temp dir are cleaned up.
  t.teardown(async () => {
    if (connected) await shutdown();
    for (const p of processes) if (p.pid && isAlive(p.pid)) for (const pid of [p.pid, ...treeOf(p.pid)]) seen.add(pid);
    for (const p of [...processes].reverse()) await terminateChild(p, 5000);
    // Workers exit when their agent's IPC channel closes; give them a moment, then insist.
    const deadline = Date.now() + 5000;
    while ([...seen].some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const left = [...seen].filter(isAlive);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (left.length) t.fail(`processes left running after teardown: ${left.join(', ')}`);
    rmSync(tempDir, { recursive: true, force: true });
  });

  const head = await startDaemon(['--head', '--port', '0', '--num-cpus', '0', '--temp-dir', tempDir, '--bind', options.bind ?? '127.0.0.1', ...timing]);
  processes.push(head.child);
  const address = head.ready.address!;
  const token = head.ready.token!;

  const cluster: TestCluster = {
    address,
    token,
    tempDir,
    headPid: head.child.pid!,
    agents: [],
    async addAgent(spec) {
      const args = ['--address', spec.address ?? address, '--token-file', join(tempDir, 'token'), '--temp-dir', join(tempDir, `agent-${cluster.agents.length}`)];
      args.push('--num-cpus', String(spec.numCpus ?? 1));
      if (spec.numGpus !== undefined) args.push('--num-gpus', String(spec.numGpus));
      if (spec.resources) args.push('--resources', JSON.stringify(spec.resources));
      if (spec.labels) args.push('--labels', Object.entries(spec.labels).map(([k, v]) => `${k}=${v}`).join(','));
      const { child, ready } = await startDaemon(args);
      processes.push(child);
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      const agent: RunningAgent = { nodeId: ready.nodeId!, pid: child.pid!, process: child, kill: (s = 'SIGKILL') => child.kill(s), exited };
      cluster.agents.push(agent);
      return agent;
    },
    adopt(child) {
      processes.push(child);
    },
    descendants() {
      const pids: number[] = [];
      for (const p of processes) if (p.pid && isAlive(p.pid)) pids.push(p.pid, ...treeOf(p.pid));
      for (const pid of pids) seen.add(pid);
      return pids;
    },
  };


  for (const spec of options.agents ?? [{ numCpus: 2 }]) await cluster.addAgent(spec);
  if (options.connect !== false) {
    await init({ address, token, logToDriver: options.logToDriver ?? false });
    connected = true;
  }
  return cluster;
}
