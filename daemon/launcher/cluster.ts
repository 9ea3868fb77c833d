/**
 * The cluster launcher: `up`, `down`, `exec`, `attach`, `rsync-up/down`, `submit`, `status` over SSH for a
 * cluster config (config.ts), in the manner of Ray's `ray up` for the local provider.
 *
 * Every host gets a node directory <temp_dir>/<cluster>/<host> (host-specific, so a shared /tmp or NFS home is
 * fine) holding the daemon's temp dir, the token file (0600, written from ssh stdin) and a marker with the hash
 * of the config it was started with. `up` skips hosts whose marker matches and whose node is alive in the head's
 * node table; `--restart` restarts them. Every process started through the launcher carries DHTS_NODE_DIR in its
 * environment, which is how `down` finds and stops what it started, even workers that lost their head.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { JobClient } from '../jobs/client.js';
import type { WireNodeInfo } from '../jobs/proto.js';
import type { ClusterConfig } from './config.js';
import { HostsFailedError, LauncherError, SshCommandError } from './errors.js';
import { shellQuote, SshHost } from './ssh.js';

export type Role = 'head' | 'worker';

export interface ClusterNode {
  readonly role: Role;
  readonly ip: string;
  /** "head 10.0.0.1" / "worker 10.0.0.2": prefixes output and names the host in errors. */
  readonly label: string;
  /** Directory of this node on its host. */
  readonly nodeDir: string;
  readonly ssh: SshHost;
}

export interface LauncherOptions {
  /** Local state root (token, known_hosts); default $DHTS_HOME or ~/.dhts. */
  readonly stateRoot?: string;
  /** Where output goes, one line at a time. */
  readonly print?: (line: string) => void;
  /** Delay before the first SSH retry (ms). */
  readonly sshBackoffMs?: number;
  /** How long `up` waits for every worker to appear in the head's node table. */
  readonly joinTimeoutS?: number;
}

export interface UpResult {
  readonly started: readonly string[];
  readonly alreadyRunning: readonly string[];
  readonly jobsAddress: string;
}

export interface DownResult {
  readonly stopped: readonly string[];
  /** Processes still carrying this cluster's DHTS_NODE_DIR that `down` had to kill. */
  readonly killedLeftovers: number;
}

const MARKER = 'launcher-state.json';
/** Node label set by the launcher's start commands: the host as written in the config. */
export const HOST_LABEL = 'dhts.host';

export function defaultStateRoot(): string {
  return process.env.DHTS_HOME || join(homedir(), '.dhts');
}

export class ClusterLauncher {
  readonly config: ClusterConfig;
  readonly nodes: readonly ClusterNode[];
  readonly head: ClusterNode;
  readonly workers: readonly ClusterNode[];
  private readonly stateDir: string;
  private readonly print: (line: string) => void;
  private readonly joinTimeoutS: number;

  constructor(config: ClusterConfig, options: LauncherOptions = {}) {
    this.config = config;
    this.stateDir = join(options.stateRoot ?? defaultStateRoot(), 'clusters', config.clusterName);
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    this.print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
    this.joinTimeoutS = options.joinTimeoutS ?? 60;
    const make = (role: Role, ip: string, sshHost: string): ClusterNode => {
      const label = `${role} ${ip}`;
      return {
        role,
        ip,
        label,
        nodeDir: posix.join(config.tempDir, config.clusterName, ip),
        ssh: new SshHost(
          {
            label,
            host: sshHost,
            user: config.auth.sshUser,
            port: config.auth.sshPort,
            privateKey: config.auth.sshPrivateKey,
            proxyCommand: config.auth.sshProxyCommand,
          },
          { connectTimeoutS: config.ssh.connectTimeoutS, retries: config.ssh.retries, stateDir: this.stateDir, clusterName: config.clusterName, backoffMs: options.sshBackoffMs },
        ),
      };
    };
    this.head = make('head', config.headIp, config.externalHeadIp);
    this.workers = config.workerIps.map((ip) => make('worker', ip, ip));
    this.nodes = [this.head, ...this.workers];
  }

  /** host:port of the head's job API, as seen from here. */
  get jobsAddress(): string {
    return `${this.config.externalHeadIp}:${this.config.jobsPort}`;
  }

  /** The cluster token: from the configured file or env var, or generated once and kept 0600 in the state dir. */
  token(): string {
    const source = this.config.token;
    if (source.kind === 'env') {
      const value = process.env[source.name]?.trim();
      if (!value) throw new LauncherError('CLUSTER_CONFIG', `${this.config.file}: token.env names ${source.name}, which is not set`);
      return value;
    }
    if (source.kind === 'file') {
      if (!existsSync(source.path)) throw new LauncherError('CLUSTER_CONFIG', `${this.config.file}: token.file ${source.path} does not exist`);
      return readFileSync(source.path, 'utf8').trim();
    }
    const path = this.tokenPath();
    if (!existsSync(path)) {
      writeFileSync(path, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
    }
    return readFileSync(path, 'utf8').trim();
  }

  /** Local file holding the token (for `dhts job --token-file`). */
  tokenPath(): string {
    return this.config.token.kind === 'file' ? this.config.token.path : join(this.stateDir, 'token');
  }

  jobClient(timeoutMs = 10_000): JobClient {
    return new JobClient({ address: this.jobsAddress, token: this.token(), timeoutMs });
  }

  /**
   * Hash of what decides how a node runs; a change restarts the node on `up`. The worker list is left out:
   * adding or removing a worker does not restart the others.
   */
  configHash(): string {
    const { warnings: _w, file: _f, workerIps: _ips, ...relevant } = this.config;
    return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
  }

  /**
   * The shell preamble of every command on a node: variables (Ray's RAY_HEAD_IP included), the config's env, the
   * node binary on PATH, and a `dhts` function that adds this node's --temp-dir (and token file for `start`).
   */
  preamble(node: ClusterNode, options: { driver?: boolean } = {}): string {
    const c = this.config;
    const vars: Record<string, string> = {
      DHTS_CLUSTER: c.clusterName,
      DHTS_ROLE: node.role,
      DHTS_NODE_IP: node.ip,
      DHTS_HEAD_IP: c.headIp,
      RAY_HEAD_IP: c.headIp,
      DHTS_PORT: String(c.port),
      DHTS_JOBS_PORT: String(c.jobsPort),
      DHTS_BIND: c.bind,
      DHTS_NODE_DIR: node.nodeDir,
      DHTS_TEMP_DIR: node.nodeDir,
      ...c.env,
    };
    const lines = Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    if (c.node) lines.push(`export PATH=${shellQuote(posix.dirname(c.node))}:"$PATH"`);
    lines.push(
      `__dhts_cli() { command ${c.dhtsCommand} "$@"; }`,
      'dhts() {',
      '  local sub="${1:-}"; [ $# -gt 0 ] && shift',
      '  case "$sub" in',
      // The label lets `up` find this host in the head's node table even when it is configured by name.
      `    start) set -- --labels "${HOST_LABEL}=$DHTS_NODE_IP" "$@"; if [ "$DHTS_ROLE" = head ]; then set -- --bind "$DHTS_BIND" "$@"; fi`,
      '           __dhts_cli start --temp-dir "$DHTS_NODE_DIR" --token-file "$DHTS_NODE_DIR/token" "$@" ;;',
      '    stop|status) __dhts_cli "$sub" --temp-dir "$DHTS_NODE_DIR" "$@" ;;',
      '    *) __dhts_cli "$sub" "$@" ;;',
      '  esac',
      '}',
    );
    if (options.driver) {
      // A driver started by exec/submit joins this cluster; the token goes through the environment only.
      lines.push(`export DHTS_ADDRESS=${shellQuote(`${c.headIp}:${c.port}`)}`, 'export DHTS_TOKEN="$(cat "$DHTS_NODE_DIR/token" 2>/dev/null)"');
    }
    return `${lines.join('\n')}\n`;
  }

  private prefixed(node: ClusterNode) {
    return (line: string) => this.print(`(${node.label}) ${line}`);
  }

  /** Runs one configured command on a node, streaming its output with the node's prefix. */
  private async runStep(node: ClusterNode, command: string, options: { driver?: boolean } = {}): Promise<void> {
    const out = this.prefixed(node);
    out(`$ ${command}`);
    await node.ssh.run(`${this.preamble(node, options)}${command}`, { onLine: (line) => out(line), what: command });
  }

  /** Runs `fn` on every node in parallel; one failing host does not stop or hide the others. */
  private async onEach<T>(nodes: readonly ClusterNode[], step: string, fn: (node: ClusterNode) => Promise<T>): Promise<Map<string, T>> {
    const results = new Map<string, T>();
    const failures = new Map<string, Error>();
    await Promise.all(
      nodes.map(async (node) => {
        try {
          results.set(node.ip, await fn(node));
        } catch (error) {
          failures.set(node.label, error as Error);
          this.print(`(${node.label}) ${step} FAILED: ${(error as Error).message.split('\n')[0]}`);
        }
      }),
    );
    if (failures.size > 0) throw new HostsFailedError(step, failures);
    return results;
  }

  private async readMarker(node: ClusterNode): Promise<string | undefined> {
    try {
      const { stdout } = await node.ssh.run(`cat ${shellQuote(posix.join(node.nodeDir, MARKER))} 2>/dev/null || true`, { what: 'read marker' });
      return (JSON.parse(stdout || '{}') as { configHash?: string }).configHash;
    } catch {
      return undefined;
    }
  }

  /** Alive nodes of the head's node table, or undefined when the head does not answer. */
  async liveNodes(): Promise<WireNodeInfo[] | undefined> {
    const client = this.jobClient(5000);
    try {
      return (await client.listNodes()).filter((n) => n.alive);
    } catch {
      return undefined;
    } finally {
      client.close();
    }
  }

  /**
   * Is this host's agent in the head's table? The head's agent is the one marked isHead; a worker is found by the
   * label its start command carries, else by the address it connects from or its host name.
   */
  private joined(nodes: readonly WireNodeInfo[], node: ClusterNode): boolean {
    if (node.role === 'head') return nodes.some((n) => n.isHead);
    const name = node.ip.toLowerCase();
    return nodes.some(
      (n) => !n.isHead && (n.labels[HOST_LABEL] === node.ip || n.address === node.ip || n.hostname.toLowerCase() === name || n.hostname.toLowerCase().split('.')[0] === name),
    );
  }

  private async setUpNode(node: ClusterNode, token: string): Promise<void> {
    const c = this.config;
    const out = this.prefixed(node);
    await node.ssh.waitReachable(c.ssh.waitForSshS);
    // The token travels on stdin into a 0600 file: never on a command line, never in a log.
    await node.ssh.run(`umask 077 && mkdir -p ${shellQuote(node.nodeDir)} && cat > ${shellQuote(posix.join(node.nodeDir, 'token'))}`, {
      input: `${token}\n`,
      what: 'write the token file',
    });
    for (const [remote, local] of Object.entries(c.fileMounts)) {
      out(`rsync ${local} -> ${remote}`);
      // A directory's contents go to the remote path (rsync's trailing-slash rule), as Ray does.
      const src = !local.endsWith('/') && isDirectory(local) ? `${local}/` : local;
      await node.ssh.rsync('up', src, remote, { exclude: c.rsyncExclude, filter: c.rsyncFilter, onLine: out });
    }
    const setup = [...c.initializationCommands, ...c.setupCommands, ...(node.role === 'head' ? c.headSetupCommands : c.workerSetupCommands)];
    for (const command of setup) await this.runStep(node, command);
    const { stdout } = await node.ssh.run(`${this.preamble(node)}node -p 'process.versions.node'`, { what: 'node --version' }).catch((error: Error) => {
      throw new LauncherError('CLUSTER_NOT_READY', `${node.label}: cannot run node (${error.message.split('\n')[0]}); install Node.js >= ${c.nodeVersion} or set "node:" in ${c.file}`, { cause: error });
    });
    const major = Number(stdout.trim().split('.')[0]);
    if (!(major >= c.nodeVersion)) {
      throw new LauncherError('CLUSTER_NOT_READY', `${node.label}: Node.js ${stdout.trim()} is older than node_version ${c.nodeVersion} (${c.file})`);
    }
    for (const command of node.role === 'head' ? c.headStartCommands : c.workerStartCommands) await this.runStep(node, command);
    const marker = JSON.stringify({ configHash: this.configHash(), role: node.role, startedAt: new Date().toISOString() });
    await node.ssh.run(`cat > ${shellQuote(posix.join(node.nodeDir, MARKER))}`, { input: marker, what: 'write marker' });
  }

  /** Starts the head and the workers (in parallel), skipping healthy ones unless `restart`, and waits until all joined. */
  async up(options: { restart?: boolean } = {}): Promise<UpResult> {
    try {
      return await this.upAll(options);
    } finally {
      await this.close();
    }
  }

  private async upAll(options: { restart?: boolean }): Promise<UpResult> {
    const token = this.token();
    for (const w of this.config.warnings) this.print(`warning: ${w}`);
    const hash = this.configHash();
    let live = options.restart ? undefined : await this.liveNodes();
    const markers = new Map<string, string | undefined>();
    if (live) {
      await Promise.all(this.nodes.map(async (n) => markers.set(n.ip, await this.readMarker(n))));
    }
    const healthy = (node: ClusterNode) => live !== undefined && markers.get(node.ip) === hash && this.joined(live, node);
    const started: string[] = [];
    const alreadyRunning: string[] = [];

    const headHealthy = healthy(this.head);
    if (headHealthy) {
      alreadyRunning.push(this.head.label);
      this.print(`(${this.head.label}) already running with this config; skipped (use --restart to restart)`);
    } else {
      this.print(`(${this.head.label}) starting`);
      await this.onEach([this.head], 'head setup', (n) => this.setUpNode(n, token));
      started.push(this.head.label);
      live = undefined;
    }
    // Workers joined to a head that was just restarted are restarted too.
    const todo = this.workers.filter((w) => !(headHealthy && healthy(w)));
    for (const w of this.workers) {
      if (!todo.includes(w)) {
        alreadyRunning.push(w.label);
        this.print(`(${w.label}) already running with this config; skipped`);
      }
    }
    let failure: HostsFailedError | undefined;
    try {
      await this.onEach(todo, 'worker setup', async (n) => {
        this.print(`(${n.label}) starting`);
        await this.setUpNode(n, token);
        started.push(n.label);
      });
    } catch (error) {
      failure = error as HostsFailedError;
    }
    const expected = this.nodes.filter((n) => started.includes(n.label) || alreadyRunning.includes(n.label));
    try {
      await this.waitJoined(expected);
    } catch (error) {
      // Report hosts that failed to start and hosts that started but never joined, together.
      if (!failure || !(error instanceof HostsFailedError)) throw error;
      failure = new HostsFailedError('up', new Map([...failure.failures, ...error.failures]));
    }
    if (failure) throw failure;
    this.print(`cluster "${this.config.clusterName}" is up: ${this.nodes.length} node(s); job API at ${this.jobsAddress}`);
    this.print(`  dhts job submit --address ${this.jobsAddress} --token-file ${this.tokenPath()} --working-dir . -- node tune.js`);
    return { started, alreadyRunning, jobsAddress: this.jobsAddress };
  }

  private async waitJoined(nodes: readonly ClusterNode[]): Promise<void> {
    const deadline = Date.now() + this.joinTimeoutS * 1000;
    let missing: ClusterNode[] = [...nodes];
    while (missing.length > 0) {
      const live = await this.liveNodes();
      if (live) missing = missing.filter((n) => !this.joined(live, n));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        const failures = new Map<string, Error>(
          missing.map((n) => [n.label, new LauncherError('CLUSTER_NOT_READY', `started, but not in the head's node table after ${this.joinTimeoutS} s (logs: ${n.nodeDir}/logs on that host)`)]),
        );
        throw new HostsFailedError('joining the cluster', failures);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /**
   * Stops every node (in parallel, head included, reachable or not): the configured stop commands, then any
   * process left with this node's DHTS_NODE_DIR in its environment (orphaned workers, job entrypoints).
   */
  async down(): Promise<DownResult> {
    const stopped: string[] = [];
    let killed = 0;
    const results = await this.onEach(this.nodes, 'down', async (node) => {
      for (const command of this.config.stopCommands) {
        await this.runStep(node, command).catch((error: Error) => {
          // A failing stop command must not keep the leftovers alive: report it and go on.
          this.print(`(${node.label}) ${command}: ${error.message.split('\n')[0]}`);
        });
      }
      const n = await this.killLeftovers(node);
      if (n > 0) this.print(`(${node.label}) killed ${n} leftover process(es)`);
      await node.ssh.run(`rm -f ${shellQuote(posix.join(node.nodeDir, MARKER))} ${shellQuote(posix.join(node.nodeDir, 'token'))}`, { what: 'remove token and marker' });
      stopped.push(node.label);
      return n;
    }).finally(() => this.close());
    for (const n of results.values()) killed += n;
    this.print(`cluster "${this.config.clusterName}" is down (${stopped.length} node(s))`);
    return { stopped, killedLeftovers: killed };
  }

  /** Kills (TERM, then KILL after 3 s) every process whose environment has DHTS_NODE_DIR=<this node's dir>. */
  private async killLeftovers(node: ClusterNode): Promise<number> {
    // No preamble here: this shell must not carry the variable it looks for.
    const script = [
      `want=${shellQuote(`DHTS_NODE_DIR=${node.nodeDir}`)}`,
      // One grep over every environ file (NUL-separated entries: -z); the shell's own pid is left out.
      'find_pids() { grep -lzxF "$want" /proc/[0-9]*/environ 2>/dev/null | sed -n "s#^/proc/\\([0-9]*\\)/environ\\$#\\1#p" | grep -vx "$$"; }',
      'pids=$(find_pids); n=$(echo $pids | wc -w)',
      '[ -n "$pids" ] && kill -TERM $pids 2>/dev/null',
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do [ -z "$(find_pids)" ] && break; sleep 0.2; done',
      'left=$(find_pids); [ -n "$left" ] && kill -KILL $left 2>/dev/null',
      'echo "$n"',
    ].join('\n');
    const { stdout } = await node.ssh.run(script, { what: 'stop leftover processes' });
    return Number(stdout.trim().split('\n').pop()) || 0;
  }

  private target(nodeIp?: string): ClusterNode {
    if (!nodeIp) return this.head;
    const node = this.nodes.find((n) => n.ip === nodeIp);
    if (!node) throw new LauncherError('CLUSTER_CONFIG', `${nodeIp} is not a host of cluster "${this.config.clusterName}" (${this.nodes.map((n) => n.ip).join(', ')})`);
    return node;
  }

  /**
   * Runs a command on the head (or one node, or all nodes) with the cluster's environment; DHTS_ADDRESS and
   * DHTS_TOKEN are set so that a driver started this way joins the cluster. Returns the exit code.
   */
  async exec(command: string, options: { nodeIp?: string; allNodes?: boolean } = {}): Promise<number> {
    const nodes = options.allNodes ? this.nodes : [this.target(options.nodeIp)];
    const single = nodes.length === 1;
    let worst = 0;
    try {
      await Promise.all(
        nodes.map(async (node) => {
          const out = single ? (line: string) => this.print(line) : this.prefixed(node);
          try {
            await node.ssh.run(`${this.preamble(node, { driver: true })}${command}`, { onLine: (line) => out(line), what: command });
          } catch (error) {
            if (error instanceof SshCommandError) worst = Math.max(worst, error.exitCode ?? 1);
            else {
              this.print(`(${node.label}) ${(error as Error).message}`);
              worst = Math.max(worst, 255);
            }
          }
        }),
      );
    } finally {
      await this.close();
    }
    return worst;
  }

  /** An interactive login shell on the head (or a node), with the cluster's environment and `dhts` function. */
  async attach(options: { nodeIp?: string } = {}): Promise<number> {
    const node = this.target(options.nodeIp);
    try {
      await node.ssh.run(`${this.preamble(node, { driver: true })}export -f dhts __dhts_cli\ncd ~ && exec bash -i`, { interactive: true, retries: this.config.ssh.retries, what: 'attach' });
      return 0;
    } catch (error) {
      if (error instanceof SshCommandError) return error.exitCode ?? 1;
      throw error;
    } finally {
      await this.close();
    }
  }

  async rsyncUp(source: string, destination: string, options: { nodeIp?: string; allNodes?: boolean } = {}): Promise<void> {
    const nodes = options.allNodes ? this.nodes : [this.target(options.nodeIp)];
    try {
      await this.onEach(nodes, 'rsync-up', (n) => n.ssh.rsync('up', source, destination, { exclude: this.config.rsyncExclude, filter: this.config.rsyncFilter, onLine: this.prefixed(n) }));
    } finally {
      await this.close();
    }
  }

  async rsyncDown(source: string, destination: string, options: { nodeIp?: string } = {}): Promise<void> {
    const node = this.target(options.nodeIp);
    try {
      await node.ssh.rsync('down', source, destination, { onLine: this.prefixed(node) });
    } finally {
      await this.close();
    }
  }

  /** Ray's `submit`: copy a script to the head's home and run it there with node, as a driver of the cluster. */
  async submit(script: string, args: readonly string[] = []): Promise<number> {
    const remote = `~/${basename(script)}`;
    try {
      await this.head.ssh.rsync('up', script, remote);
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.exec(['node', remote, ...args.map(shellQuote)].join(' '));
  }

  /** Reachability of every host and the head's view of the cluster. */
  async status(): Promise<string> {
    const lines: string[] = [`cluster "${this.config.clusterName}" (${this.config.file})`];
    const reach = new Map<string, string>();
    await Promise.all(
      this.nodes.map(async (n) => {
        try {
          await n.ssh.run('true', { retries: 0, what: 'ssh check' });
          reach.set(n.ip, 'ssh ok');
        } catch (error) {
          reach.set(n.ip, `ssh FAILED: ${(error as Error).message.split('\n')[0]}`);
        }
      }),
    );
    await this.close();
    const client = this.jobClient(5000);
    let all: WireNodeInfo[] | undefined;
    let text = '';
    try {
      const s = await client.clusterStatus();
      all = s.nodes;
      text = s.text;
    } catch (error) {
      lines.push(`head: job API at ${this.jobsAddress} does not answer: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      client.close();
    }
    const alive = all?.filter((n) => n.alive) ?? [];
    for (const n of this.nodes) {
      const joined = all ? (this.joined(alive, n) ? 'joined' : 'NOT JOINED') : 'unknown';
      lines.push(`  ${n.label.padEnd(24)} ${reach.get(n.ip)}; ${joined}`);
    }
    for (const n of all?.filter((x) => !x.alive) ?? []) lines.push(`  dead node ${n.nodeId} (${n.address || n.hostname}): ${n.deathReason}`);
    if (text) lines.push('', text);
    return lines.join('\n');
  }

  /** Ends the shared SSH connections. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.ssh.close()));
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
