/**
 * Test hosts made of Linux network namespaces, joined by veth pairs to one bridge in the root namespace.
 *
 *   const reason = await netnsUnavailableReason();      // undefined when `ip netns` works here
 *   if (reason) { t.comment(`skip: ${reason}`); t.pass('skipped'); return; }
 *   const net = await createNetwork({ hosts: 3 });
 *   t.teardown(() => net.remove());                     // kills every process in the namespaces, deletes them
 *   net.hosts[0]   // { name: 'h0', netns: 'dhts-<id>-h0', ip: '10.a.b.2' }
 *   net.gatewayIp  // the root namespace's address on the bridge: every host can reach a server bound there
 *   await net.run(net.hosts[1], 'ip', ['addr']);        // run a command inside a host, resolves to its stdout
 *   const child = net.spawn(net.hosts[1], 'node', ['server.js']);   // long-running child inside a host
 *   await net.pids(net.hosts[1]);                       // every pid whose network namespace is that host's
 *
 * All hosts share the filesystem and the pid namespace of this machine; only the network is separate.
 * Names carry this process's pid and a random id, so parallel runs do not clash and `removeStaleNetworks()`
 * can delete what a crashed run left behind. `remove()` is idempotent, and a process 'exit' hook removes any
 * network a test forgot (or could not reach because it crashed).
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NetnsHost {
  /** Short name: h0, h1, … */
  readonly name: string;
  /** Name of the network namespace (for `ip netns exec`). */
  readonly netns: string;
  /** IPv4 address of the host on the shared bridge. */
  readonly ip: string;
}

export interface NetnsNetwork {
  readonly id: string;
  readonly hosts: readonly NetnsHost[];
  /** Address of the root namespace on the bridge. */
  readonly gatewayIp: string;
  readonly bridge: string;
  run(host: NetnsHost, file: string, args?: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<string>;
  spawn(host: NetnsHost, file: string, args?: readonly string[], options?: SpawnOptions): ChildProcess;
  pids(host: NetnsHost): Promise<number[]>;
  /** Cuts a host off the bridge (its link goes down) or reconnects it. */
  setLinkUp(host: NetnsHost, up: boolean): Promise<void>;
  remove(): Promise<void>;
}

const NAME_PREFIX = 'dhts-';
/** Networks created by this process and not yet removed: base name -> bridge and host count. */
const live = new Map<string, { bridge: string; count: number }>();
let exitHookInstalled = false;

async function ip(args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('ip', args as string[], { timeout: 20_000 });
  return stdout;
}

/** Why network namespaces cannot be used here, or undefined when they can. */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (platform is ${process.platform})`;
  const probe = `${NAME_PREFIX}probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await ip(['netns', 'add', probe]);
  } catch (error) {
    return `\`ip netns add\` refused: ${firstLine(error)}`;
  }
  try {
    await ip(['netns', 'del', probe]);
  } catch {
    /* best effort */
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const e = error as { stderr?: string; message?: string };
  return (e.stderr || e.message || String(error)).trim().split('\n')[0] ?? '';
}

async function pickSubnet(): Promise<string> {
  const routes = await ip(['-4', 'addr']).catch(() => '');
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = 200 + Math.floor(Math.random() * 50);
    const b = Math.floor(Math.random() * 256);
    const prefix = `10.${a}.${b}`;
    if (!routes.includes(`${prefix}.`)) return prefix;
  }
  throw new Error('netns: no free 10.x.y.0/24 subnet found');
}

export async function createNetwork(options: { hosts: number }): Promise<NetnsNetwork> {
  if (options.hosts < 1 || options.hosts > 200) throw new RangeError(`netns: hosts must be 1..200, got ${options.hosts}`);
  // Interface names are limited to 15 characters: 6 hex chars of id keep "dh<id>p<n>" short.
  const id = randomBytes(3).toString('hex');
  const base = `${NAME_PREFIX}${process.pid}-${id}`;
  const bridge = `dh${id}br`;
  const subnet = await pickSubnet();
  const hosts: NetnsHost[] = [];
  for (let i = 0; i < options.hosts; i++) hosts.push({ name: `h${i}`, netns: `${base}-h${i}`, ip: `${subnet}.${i + 2}` });
  const gatewayIp = `${subnet}.1`;

  const network: NetnsNetwork = {
    id,
    hosts,
    gatewayIp,
    bridge,
    async run(host, file, args = [], opts = {}) {
      return new Promise<string>((resolve, reject) => {
        const child = execFile(
          'ip',
          ['netns', 'exec', host.netns, file, ...args],
          { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 },
          (error, stdout, stderr) => {
            if (error) reject(Object.assign(new Error(`netns ${host.name}: ${file} failed: ${stderr || error.message}`), { cause: error }));
            else resolve(stdout);
          },
        );
        if (opts.input !== undefined) child.stdin?.end(opts.input);
      });
    },
    spawn(host, file, args = [], opts = {}) {
      return spawn('ip', ['netns', 'exec', host.netns, file, ...args], opts);
    },
    async pids(host) {
      const out = await ip(['netns', 'pids', host.netns]).catch(() => '');
      return out.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
    },
    async setLinkUp(host, up) {
      await ip(['netns', 'exec', host.netns, 'ip', 'link', 'set', `eth0`, up ? 'up' : 'down']);
    },
    async remove() {
      if (!live.has(base)) return;
      live.delete(base);
      removeSync(base, bridge, hosts.length);
    },
  };

  live.set(base, { bridge, count: hosts.length });
  installExitHook();
  try {
    await ip(['link', 'add', bridge, 'type', 'bridge']);
    await ip(['addr', 'add', `${gatewayIp}/24`, 'dev', bridge]);
    await ip(['link', 'set', bridge, 'up']);
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i]!;
      const outer = `dh${id}p${i}`;
      const inner = `dh${id}q${i}`;
      await ip(['netns', 'add', host.netns]);
      await ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      await ip(['link', 'set', outer, 'master', bridge]);
      await ip(['link', 'set', outer, 'up']);
      await ip(['link', 'set', inner, 'netns', host.netns]);
      const inNs = (...a: string[]) => ip(['netns', 'exec', host.netns, 'ip', ...a]);
      await inNs('link', 'set', inner, 'name', 'eth0');
      await inNs('addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
      await inNs('link', 'set', 'eth0', 'up');
      await inNs('link', 'set', 'lo', 'up');
      await inNs('route', 'add', 'default', 'via', gatewayIp);
    }
  } catch (error) {
    await network.remove();
    throw new Error(`netns: could not create ${options.hosts} hosts: ${firstLine(error)}`, { cause: error });
  }
  return network;
}

function pidsOf(netns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function removeSync(base: string, bridge: string, count: number): void {
  live.delete(base);
  for (let i = 0; i < count; i++) {
    const netns = `${base}-h${i}`;
    for (const pid of pidsOf(netns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    } catch {
      /* not created or already removed */
    }
  }
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    /* not created or already removed */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [base, { bridge, count }] of [...live]) removeSync(base, bridge, count);
  });
}

/** Deletes namespaces and bridges left by runs whose process is gone (a crash, a SIGKILL). */
export async function removeStaleNetworks(): Promise<number> {
  const names = (await ip(['netns', 'list']).catch(() => '')).split('\n').map((l) => l.split(' ')[0] ?? '');
  let removed = 0;
  const seen = new Set<string>();
  for (const name of names) {
    const m = /^dhts-(\d+)-([0-9a-f]{6})-h(\d+)$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (isAlive(pid)) continue;
    for (const p of pidsOf(name)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await ip(['netns', 'del', name]).catch(() => '');
    removed++;
    if (!seen.has(m[2]!)) {
      seen.add(m[2]!);
      await ip(['link', 'del', `dh${m[2]}br`]).catch(() => '');
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
