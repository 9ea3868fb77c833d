/**
 * A real Debian sshd per network-namespace host, with throwaway keys, for launcher tests.
 *
 *   const reason = sshdUnavailableReason();     // undefined when sshd, ssh and ssh-keygen are installed
 *   const net = await createNetwork({ hosts: 3 });
 *   const ssh = await startSshd(net);           // one sshd per host, in the foreground of this process
 *   t.teardown(async () => { await ssh.stop(); await net.remove(); });
 *   ssh.user            // the login user (this process's user: tests run as root)
 *   ssh.privateKeyPath  // the client key accepted by every server (mode 0600)
 *   ssh.dir             // temp dir holding keys, configs and logs (removed by stop())
 *   ssh.servers[i]      // { host, pid, logPath }
 *
 * Each server listens on port 22 of its host's address only, accepts only the generated key, and logs to a
 * file in `dir` (look there when a connection is refused).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { NetnsHost, NetnsNetwork } from './netns.js';
import { terminateChild } from '../../daemon/child-process.js';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface SshdServer {
  readonly host: NetnsHost;
  readonly pid: number;
  readonly logPath: string;
}

export interface SshdCluster {
  readonly dir: string;
  readonly user: string;
  readonly privateKeyPath: string;
  readonly servers: readonly SshdServer[];
  /** Stops one server (to make a host unreachable); stop() still cleans up the rest. */
  stopServer(host: NetnsHost): Promise<void>;
  stop(): Promise<void>;
}

/** Why a real sshd cannot be run here, or undefined when it can. */
export function sshdUnavailableReason(): string | undefined {
  for (const bin of [SSHD_PATH, 'ssh', 'ssh-keygen', 'rsync']) {
    try {
      if (bin.startsWith('/')) {
        if (!existsSync(bin)) return `${bin} is not installed (apt-get install openssh-server)`;
      } else {
        execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      }
    } catch {
      return `${bin} is not installed (apt-get install openssh-client openssh-server rsync)`;
    }
  }
  return undefined;
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
  chmodSync(path, 0o600);
}

export async function startSshd(net: NetnsNetwork, options: { hosts?: readonly NetnsHost[] } = {}): Promise<SshdCluster> {
  const hosts = options.hosts ?? net.hosts;
  const dir = mkdtempSync(join(tmpdir(), 'dhts-sshd-'));
  const privateKeyPath = join(dir, 'id_ed25519');
  keygen(privateKeyPath, 'dhts-test-user');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${privateKeyPath}.pub`));
  // sshd refuses to start without its privilege-separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const children = new Map<string, ChildProcess>();
  const servers: SshdServer[] = [];
  const stopOne = async (name: string) => {
    const child = children.get(name);
    if (!child) return;
    children.delete(name);
    await terminateChild(child, 2000);
  };
  const cluster: SshdCluster = {
    dir,
    user: userInfo().username,
    privateKeyPath,
    servers,
    stopServer: (host) => stopOne(host.name),
    async stop() {
      await Promise.all([...children.keys()].map(stopOne));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const host of hosts) {
      const hostDir = join(dir, host.name);
      mkdirSync(hostDir);
      const hostKey = join(hostDir, 'ssh_host_ed25519_key');
      keygen(hostKey, `dhts-test-${host.name}`);
      const config = join(hostDir, 'sshd_config');
      writeFileSync(
        config,
        [
          'Port 22',
          `ListenAddress ${host.ip}`,
          `HostKey ${hostKey}`,
          `PidFile ${join(hostDir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'MaxStartups 200',
          'MaxSessions 100',
          'LogLevel VERBOSE',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      const logPath = join(hostDir, 'sshd.log');
      const logFd = openSync(logPath, 'a');
      // -D: stay in the foreground so the test owns the process; -e: log to stderr (our log file).
      const child = net.spawn(host, SSHD_PATH, ['-D', '-e', '-f', config], { stdio: ['ignore', logFd, logFd] });
      closeSync(logFd);
      children.set(host.name, child);
      servers.push({ host, pid: child.pid ?? -1, logPath });
    }
    await Promise.all(servers.map((s) => waitForPort(s.host.ip, 22, 10_000, () => readLog(s.logPath))));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

async function waitForPort(host: string, port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd on ${host}:${port} did not start within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
