/**
 * One daemon process: a head, an agent, or both (the head node is also a worker node, as in Ray). Writes the address
 * file, the token file (0600) and its daemon record, and removes them when stopped.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Labels, type Resources } from '../protocol/index.js';
import { Agent } from './agent/agent.js';
import { detectResources } from './agent/resources.js';
import { Head } from './head/head.js';
import './head/main-services.js';
import { headServices, type RunningHeadService } from './head/services.js';
import { addressFile, readTrimmed, tokenFile, writeDaemonRecord, writeSecret } from './paths.js';

export interface NodeOptions {
  head: boolean;
  /** Head address to join (agents) — ignored with head. */
  address?: string;
  port?: number;
  bind?: string;
  token?: string;
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Resources;
  labels?: Labels;
  tempDir: string;
  heartbeatMs?: number;
  nodeTimeoutMs?: number;
  /** Head: idle task workers exit after this long (see HeadConfig). */
  idleWorkerTimeoutMs?: number;
  /** Agents joining a remote head: give up (and exit) after this long without it (default 60 s, as Ray's
   *  raylets do; 0 = never). The head node's own agent never gives up. */
  giveUpAfterMs?: number;
  log?: (line: string) => void;
}

export interface RunningNode {
  head?: Head;
  agent?: Agent;
  address: string;
  token: string;
  tokenFile?: string;
  nodeId?: string;
  services: RunningHeadService[];
  stop(): Promise<void>;
}

export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const log = o.log ?? (() => {});
  mkdirSync(join(o.tempDir, 'logs'), { recursive: true, mode: 0o700 });
  const files: string[] = [];
  let head: Head | undefined;
  let address: string;
  let token: string;
  let tokenPath: string | undefined;
  const services: RunningHeadService[] = [];
  if (o.head) {
    token = o.token ?? randomBytes(24).toString('base64url');
    head = new Head({ token, port: o.port ?? 0, host: o.bind ?? '127.0.0.1', heartbeatMs: o.heartbeatMs, nodeTimeoutMs: o.nodeTimeoutMs, idleWorkerTimeoutMs: o.idleWorkerTimeoutMs, log });
    try {
      await head.start();
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') throw new ConfigError(`port ${o.port} on ${o.bind ?? '127.0.0.1'} is already in use (choose another with --port, or 0 for any free port)`, { cause: e });
      if (e.code === 'EADDRNOTAVAIL') throw new ConfigError(`cannot bind to ${o.bind}: no such local address (--bind)`, { cause: e });
      throw error;
    }
    address = head.address;
    tokenPath = tokenFile(o.tempDir);
    writeSecret(tokenPath, token);
    writeSecret(addressFile(o.tempDir), address);
    files.push(addressFile(o.tempDir));
    for (const factory of headServices) {
      try {
        const s = await factory.start({
          address,
          bindHost: o.bind ?? '127.0.0.1',
          token,
          tempDir: o.tempDir,
          status: () => head!.status(),
          kvGet: (k) => head!.kvGet(k),
          kvPut: (k, v) => head!.kvPut(k, v),
          kvDelete: (k) => head!.kvDelete(k),
          kvList: (p) => head!.kvList(p),
          log,
        });
        services.push(s);
        if (s.description) log(`${factory.name}: ${s.description}`);
      } catch (error) {
        log(`head service ${factory.name} failed to start: ${(error as Error).message}`);
      }
    }
  } else {
    if (!o.address) throw new ConfigError('--address is required to join a cluster (or use --head to start one)');
    address = o.address;
    const t = o.token ?? readTrimmed(tokenFile(o.tempDir));
    if (!t) throw new ConfigError(`no cluster token: pass --token or --token-file (the head wrote it to ${tokenFile(DEFAULT_HEAD_HINT)} on its host)`);
    token = t;
  }

  let agent: Agent | undefined;
  const wantsAgent = !o.head || o.numCpus === undefined || o.numCpus > 0 || (o.numGpus ?? 0) > 0;
  if (wantsAgent) {
    const detected = detectResources({ numCpus: o.numCpus, numGpus: o.numGpus, memory: o.memory, resources: o.resources });
    agent = new Agent({
      headAddress: address,
      token,
      resources: detected.resources,
      gpuIds: detected.gpuIds,
      labels: o.labels,
      isHead: o.head,
      tempDir: o.tempDir,
      giveUpAfterMs: o.head ? 0 : (o.giveUpAfterMs ?? 60_000),
      log,
    });
    try {
      await agent.start();
    } catch (error) {
      await head?.stop();
      throw error;
    }
  }
  const record = writeDaemonRecord(o.tempDir, {
    pid: process.pid,
    kind: head && agent ? 'head+agent' : head ? 'head' : 'agent',
    address,
    nodeId: agent?.nodeId,
    startedAt: new Date().toISOString(),
  });
  files.push(record);

  let stopped: Promise<void> | undefined;
  return {
    head,
    agent,
    address,
    token,
    tokenFile: tokenPath,
    nodeId: agent?.nodeId,
    services,
    stop() {
      stopped ??= (async () => {
        await agent?.stop();
        for (const s of services.reverse()) await s.stop().catch(() => {});
        await head?.stop();
        for (const f of files) rmSync(f, { force: true });
      })();
      return stopped;
    },
  };
}

const DEFAULT_HEAD_HINT = '/tmp/dhts';
