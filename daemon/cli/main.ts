#!/usr/bin/env node
/**
 * `dhts`: start, stop and inspect cluster daemons (as `ray start|stop|status`).
 *   dhts start --head [--port 0] [--bind 127.0.0.1] [--num-cpus N] …   head (+ an agent unless --num-cpus 0)
 *   dhts start --address HOST:PORT --token-file FILE [--num-gpus 2] [--resources '{"bigmem":1}']
 *   dhts status [--address A]        nodes, resource usage, pending demands, actors
 *   dhts stop [--grace-period S] [--force]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, isListening, type ClusterStatus, type Labels, type Resources } from '../../protocol/index.js';
import type { RunningNode } from '../node.js';
import { addressFile, DEFAULT_TEMP_DIR, isProcessAlive, listDaemonRecords, readTrimmed, tokenFile } from '../paths.js';
import { formatStatus } from './status-format.js';
import { registerLauncherCommands } from '../launcher/cli.js';
import { registerJobCommands } from '../jobs/cli.js';
import { nonNegativeNumber } from './flags.js';
import { registerSearchCommand } from './search.js';

/** IPC message from a daemon child to whoever started it. */
export type ReadyMessage =
  | { kind: 'ready'; address: string; token: string; tokenFile?: string; nodeId?: string; pid: number }
  | { kind: 'failed'; message: string };

function parseMemory(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError(`--memory must be bytes, optionally with a unit (e.g. 4GiB), got '${v}'`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

function parseResources(v: string): Resources {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new InvalidArgumentError(`--resources must be a JSON object like '{"bigmem": 1}': ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`--resources must be a JSON object, got ${v}`);
  for (const [k, q] of Object.entries(parsed)) {
    if (typeof q !== 'number' || !Number.isFinite(q) || q < 0) throw new InvalidArgumentError(`--resources: '${k}' must be a non-negative number, got ${JSON.stringify(q)}`);
  }
  return parsed as Resources;
}

function parseLabels(v: string): Labels {
  const out: Labels = {};
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--labels must look like 'k1=v1,k2=v2', got '${part}'`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

interface StartFlags {
  head?: boolean;
  address?: string;
  port?: number;
  bind: string;
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Resources;
  labels?: Labels;
  token?: string;
  tokenFile?: string;
  tempDir: string;
  block?: boolean;
  nodeTimeoutMs?: number;
  idleWorkerTimeoutMs?: number;
  heartbeatMs?: number;
  exitWithParent?: boolean;
}

function fail(message: string): never {
  process.stderr.write(`dhts: error: ${message}\n`);
  process.exit(1);
}

async function checkStart(f: StartFlags): Promise<string | undefined> {
  if (f.head && f.address) throw new ConfigError('use either --head (start a new cluster) or --address (join one), not both');
  if (!f.head && !f.address) throw new ConfigError('--address HOST:PORT is required to join a cluster (or pass --head to start one)');
  if (!f.head && f.port !== undefined) throw new ConfigError('--port is only for the head (--head)');
  if (f.token && f.tokenFile) throw new ConfigError('use either --token or --token-file, not both');
  let token = f.token ?? process.env.DHTS_TOKEN;
  if (f.tokenFile) {
    token = readTrimmed(f.tokenFile);
    if (!token) throw new ConfigError(`--token-file ${f.tokenFile}: cannot read a token from it`);
  }
  if (f.head) {
    const previous = readTrimmed(addressFile(f.tempDir));
    if (previous && (await isListening(previous))) {
      throw new ConfigError(`a head is already running at ${previous} (temp dir ${f.tempDir}); stop it with \`dhts stop\` or use another --temp-dir`);
    }
  } else if (!(await isListening(f.address!, 3000))) {
    throw new ConfigError(`cannot reach the head at ${f.address} (is it running, and bound with --bind to an address this host can reach?)`);
  }
  return token;
}

async function runBlocking(f: StartFlags, token: string | undefined): Promise<void> {
  const log = (line: string) => process.stderr.write(`[dhts ${new Date().toISOString()}] ${line}\n`);
  let node: RunningNode;
  try {
    // Loaded here, not at the top: the head and its services are heavy, and `status`/`stop` do not need them.
    const { startNode } = await import('../node.js');
    node = await startNode({
      head: Boolean(f.head),
      address: f.address,
      port: f.port,
      bind: f.bind,
      token,
      numCpus: f.numCpus,
      numGpus: f.numGpus,
      memory: f.memory,
      resources: f.resources,
      labels: f.labels,
      tempDir: f.tempDir,
      nodeTimeoutMs: f.nodeTimeoutMs,
      idleWorkerTimeoutMs: f.idleWorkerTimeoutMs,
      heartbeatMs: f.heartbeatMs,
      log,
    });
  } catch (error) {
    const message = (error as Error).message;
    if (process.send) process.send({ kind: 'failed', message } satisfies ReadyMessage);
    fail(message);
  }
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await node.stop().catch(() => {});
    // An embedded cluster's temp dir is its own: leave nothing behind.
    if (f.exitWithParent) rmSync(f.tempDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (node.agent) node.agent.onGiveUp = () => void stop('head unreachable');
  if (f.exitWithParent) process.on('disconnect', () => void stop('parent exited'));
  const ready: ReadyMessage = { kind: 'ready', address: node.address, token: node.token, tokenFile: node.tokenFile, nodeId: node.nodeId, pid: process.pid };
  if (process.send) process.send(ready);
  if (!f.exitWithParent && process.send) process.disconnect();
  printStarted(f, ready);
}

function printStarted(f: StartFlags, r: Extract<ReadyMessage, { kind: 'ready' }>): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (f.head) {
    out(`Started the head at ${r.address} (pid ${r.pid}${r.nodeId ? `, node ${r.nodeId}` : ', no agent'}).`);
    out(`Token file: ${r.tokenFile}`);
    out('');
    out('To add another node to this cluster, run on it:');
    out(`  dhts start --address ${r.address} --token-file <copy of ${r.tokenFile}>`);
    out('To connect a driver on this host:');
    out(`  await init({ address: 'auto' })        (or DHTS_ADDRESS=${r.address})`);
    out('To see the cluster: dhts status        To stop it: dhts stop');
  } else {
    out(`Joined the cluster at ${r.address} as node ${r.nodeId} (pid ${r.pid}).`);
    out('To stop this node: dhts stop');
  }
}

/** Starts the daemon in the background and returns once it is up (or failed). */
async function daemonize(argv: string[], f: StartFlags): Promise<void> {
  const logs = join(f.tempDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const logPath = join(logs, `dhts-${f.head ? 'head' : 'agent'}-${Date.now()}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...argv, '--block'], {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const msg = await new Promise<ReadyMessage>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'failed', message: `the daemon did not come up within 30 s (log: ${logPath})` }), 30_000);
    child.once('message', (m: ReadyMessage) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      let tail = '';
      try {
        tail = readFileSync(logPath, 'utf8').trim().split('\n').slice(-5).join('\n');
      } catch {
        /* no log */
      }
      resolve({ kind: 'failed', message: `the daemon exited with code ${code}${tail ? `:\n${tail}` : ''}` });
    });
  });
  if (msg.kind === 'failed') {
    child.kill('SIGKILL');
    fail(msg.message);
  }
  child.disconnect();
  child.unref();
  printStarted(f, msg);
  process.stdout.write(`Daemon log: ${logPath}\n`);
}

async function stopDaemons(tempDir: string, graceS: number, force: boolean): Promise<void> {
  const records = listDaemonRecords(tempDir);
  const alive = records.filter((r) => isProcessAlive(r.record.pid));
  for (const r of records) if (!isProcessAlive(r.record.pid)) rmSync(r.path, { force: true });
  if (alive.length === 0) {
    process.stdout.write('Did not find any active dhts processes.\n');
    rmSync(addressFile(tempDir), { force: true });
    return;
  }
  // Agents first, then heads (as `ray stop` stops raylets before the GCS).
  const order = [...alive.filter((r) => r.record.kind === 'agent'), ...alive.filter((r) => r.record.kind !== 'agent')];
  for (const group of [order.filter((r) => r.record.kind === 'agent'), order.filter((r) => r.record.kind !== 'agent')]) {
    for (const r of group) {
      try {
        process.kill(r.record.pid, force ? 'SIGKILL' : 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const deadline = Date.now() + (force ? 1000 : graceS * 1000);
    while (Date.now() < deadline && group.some((r) => isProcessAlive(r.record.pid))) await new Promise((r) => setTimeout(r, 100));
    for (const r of group) {
      if (isProcessAlive(r.record.pid)) {
        try {
          process.kill(r.record.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(r.path, { force: true });
    }
  }
  rmSync(addressFile(tempDir), { force: true });
  process.stdout.write(`Stopped all ${alive.length} dhts processes.\n`);
}

async function showStatus(opts: { address?: string; tempDir: string; token?: string; tokenFile?: string; json?: boolean }): Promise<void> {
  const address = opts.address || process.env.DHTS_ADDRESS || readTrimmed(addressFile(opts.tempDir));
  if (!address) fail(`no cluster found: no --address, no DHTS_ADDRESS, and no address file at ${addressFile(opts.tempDir)}`);
  const token = opts.token || (opts.tokenFile ? readTrimmed(opts.tokenFile) : undefined) || process.env.DHTS_TOKEN || readTrimmed(tokenFile(opts.tempDir));
  if (!token) fail(`no cluster token: pass --token or --token-file (the head writes ${tokenFile(opts.tempDir)} on its host)`);
  const { CoreClient } = await import('../../client/runtime/core.js');
  let core;
  try {
    core = await CoreClient.connect({ address, token, role: 'driver', namespace: 'default', connectTimeoutMs: 5000 });
  } catch (error) {
    fail(`cannot reach the head at ${address}: ${(error as Error).message}`);
  }
  const status = (await core.request('status')) as ClusterStatus;
  core.close();
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}

export function buildProgram(): Command {
  const program = new Command('dhts').description('deephyper-ts cluster daemon').showHelpAfterError();
  program
    .command('start')
    .description('start a head (--head) or join a cluster (--address) on this host')
    .option('--head', 'start the head of a new cluster (also runs an agent unless --num-cpus 0)')
    .option('--address <host:port>', 'head to join')
    .option('--port <port>', 'head port (0 = any free port)', nonNegativeNumber('--port'))
    .option('--bind <host>', 'interface the head listens on', '127.0.0.1')
    .option('--num-cpus <n>', 'CPUs this node offers (default: detected)', nonNegativeNumber('--num-cpus'))
    .option('--num-gpus <n>', 'GPUs this node offers (default: nvidia-smi)', nonNegativeNumber('--num-gpus'))
    .option('--memory <bytes>', 'memory this node offers (default: 70% of RAM)', parseMemory)
    .option('--resources <json>', 'custom resources, e.g. \'{"bigmem": 1}\'', parseResources)
    .option('--labels <k=v,...>', 'node labels', parseLabels)
    .option('--token <token>', 'cluster token (default: a new random one for a head)')
    .option('--token-file <path>', 'read the cluster token from this file')
    .option('--temp-dir <dir>', 'where address, token, logs go', DEFAULT_TEMP_DIR)
    .option('--block', 'stay in the foreground')
    .addOption(new Option('--node-timeout-ms <ms>', 'declare a silent node dead after this long').argParser(nonNegativeNumber('--node-timeout-ms')))
    .addOption(new Option('--idle-worker-timeout-ms <ms>', 'idle task workers exit after this long, but a warm pool of one per CPU (0 = never; default 60000)').argParser(nonNegativeNumber('--idle-worker-timeout-ms')))
    .addOption(new Option('--heartbeat-ms <ms>').argParser(nonNegativeNumber('--heartbeat-ms')).hideHelp())
    .addOption(new Option('--exit-with-parent').hideHelp())
    .action(async (f: StartFlags, cmd: Command) => {
      try {
        const token = await checkStart(f);
        if (f.block) await runBlocking(f, token);
        else await daemonize(cmd.parent ? process.argv.slice(2) : [], f);
      } catch (error) {
        fail((error as Error).message);
      }
    });
  program
    .command('stop')
    .description('stop every dhts daemon of this host (graceful, then forced)')
    .option('--temp-dir <dir>', 'temp dir of the daemons', DEFAULT_TEMP_DIR)
    .option('-g, --grace-period <s>', 'seconds before SIGKILL', nonNegativeNumber('--grace-period'), 10)
    .option('-f, --force', 'SIGKILL at once')
    .action(async (o: { tempDir: string; gracePeriod: number; force?: boolean }) => {
      await stopDaemons(o.tempDir, o.gracePeriod, Boolean(o.force));
    });
  program
    .command('status')
    .description('nodes, resource usage, pending demands and actors of the cluster')
    .option('--address <host:port>', 'head address (default: DHTS_ADDRESS, then the address file)')
    .option('--temp-dir <dir>', 'temp dir of the head', DEFAULT_TEMP_DIR)
    .option('--token <token>')
    .option('--token-file <path>')
    .option('--json', 'print the raw status as JSON')
    .action(async (o: { address?: string; tempDir: string; token?: string; tokenFile?: string; json?: boolean }) => {
      await showStatus(o);
    });
  registerLauncherCommands(program);
  registerJobCommands(program);
  registerSearchCommand(program);
  return program;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (isMain) {
  await buildProgram().parseAsync(process.argv);
}
