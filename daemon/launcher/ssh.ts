/**
 * The SSH transport of the launcher: the system `ssh` and `rsync` run through execa.
 *
 * One ControlMaster connection per host is shared by every command of a launcher run (`close()` ends it), so a
 * run of many small commands pays the SSH handshake once. Connection failures (ssh exit code 255) are retried
 * with exponential backoff; a command's own non-zero exit is not retried. Secrets travel only on stdin.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { SshCommandError, SshUnreachableError } from './errors.js';

export interface SshTarget {
  /** Label used in output prefixes and errors, e.g. "head 10.0.0.1". */
  readonly label: string;
  readonly host: string;
  readonly user: string;
  readonly port: number;
  readonly privateKey?: string;
  readonly proxyCommand?: string;
}

export interface SshSettings {
  readonly connectTimeoutS: number;
  readonly retries: number;
  /** Directory for the known_hosts file of this cluster. */
  readonly stateDir: string;
  /** Names the ControlMaster socket directory, so clusters do not share connections. */
  readonly clusterName: string;
  /** Delay before the first retry, doubled each time (ms). */
  readonly backoffMs?: number;
}

export interface RunOptions {
  /** Written to the remote command's stdin (the only way secrets travel). */
  readonly input?: string;
  /** Called with each output line as it arrives. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly timeoutMs?: number;
  /** Override the number of connection retries. */
  readonly retries?: number;
  /** Describes the command in errors (defaults to the command itself). */
  readonly what?: string;
  /** Allocate a terminal and attach the local one (for `attach`). */
  readonly interactive?: boolean;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** ssh's exit status for its own errors (connection refused, timeout, authentication). */
const SSH_CONNECTION_ERROR = 255;

/** Quotes a remote path for the shell but keeps a leading ~/ expandable. */
export function remoteShellPath(path: string): string {
  if (path === '~') return '~';
  return path.startsWith('~/') ? `~/${shellQuote(path.slice(2) || '.')}` : shellQuote(path);
}

export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class SshHost {
  readonly target: SshTarget;
  private readonly settings: SshSettings;
  private readonly controlPath: string;

  constructor(target: SshTarget, settings: SshSettings) {
    this.target = target;
    this.settings = settings;
    // Unix socket paths are limited to ~100 bytes: keep the directory short, %C is a 40-char hash.
    const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
    const dir = join(tmpdir(), `dhts_ssh_${short(userInfo().username)}`, short(settings.clusterName));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.controlPath = join(dir, '%C');
  }

  /** Options shared by ssh and rsync's remote shell. */
  sshOptions(): string[] {
    const t = this.target;
    const opts = [
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${this.settings.connectTimeoutS}`,
      '-o', 'StrictHostKeyChecking=accept-new',
      '-o', `UserKnownHostsFile=${join(this.settings.stateDir, 'known_hosts')}`,
      '-o', 'ServerAliveInterval=5',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.controlPath}`,
      '-o', 'ControlPersist=30s',
      '-o', 'LogLevel=ERROR',
      '-p', String(t.port),
      '-l', t.user,
    ];
    if (t.privateKey) opts.push('-i', t.privateKey, '-o', 'IdentitiesOnly=yes');
    if (t.proxyCommand) opts.push('-o', `ProxyCommand=${t.proxyCommand}`);
    return opts;
  }

  /** Runs a bash script on the host (a login shell, so PATH set in ~/.profile, e.g. by nvm, applies). */
  async run(script: string, options: RunOptions = {}): Promise<RunResult> {
    // ssh itself exits 255 on connection errors: a remote 255 is shown as 254 so only real connection errors retry.
    const remote = `bash --login -c ${shellQuote(script)}; rc=$?; [ $rc -eq 255 ] && rc=254; exit $rc`;
    const args = [...this.sshOptions(), ...(options.interactive ? ['-tt'] : []), this.target.host, remote];
    const retries = options.retries ?? this.settings.retries;
    let delay = this.settings.backoffMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      const result = await this.spawn('ssh', args, options);
      if (result.exitCode !== SSH_CONNECTION_ERROR) {
        if (result.exitCode !== 0) {
          throw new SshCommandError(this.target.label, options.what ?? summarize(script), result.exitCode, result.stderr);
        }
        return result;
      }
      if (attempt >= retries) {
        throw new SshUnreachableError(this.target.label, `${result.stderr.trim().split('\n').pop() || 'ssh exited 255'} (after ${attempt + 1} attempt(s))`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }

  /** Polls until a trivial command succeeds, for hosts that are still booting. */
  async waitReachable(waitS: number): Promise<void> {
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      try {
        await this.run('true', { retries: 0, what: 'connection check', timeoutMs: (this.settings.connectTimeoutS + 5) * 1000 });
        return;
      } catch (error) {
        if (!(error instanceof SshUnreachableError) || Date.now() >= deadline) throw error;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  /** rsync a local path to the host (`up`) or a remote path here (`down`). */
  async rsync(direction: 'up' | 'down', source: string, destination: string, options: { exclude?: readonly string[]; filter?: readonly string[]; onLine?: RunOptions['onLine'] } = {}): Promise<void> {
    const rsh = ['ssh', ...this.sshOptions()].map(shellQuote).join(' ');
    const args = ['-az', '--rsh', rsh];
    for (const e of options.exclude ?? []) args.push('--exclude', e);
    for (const f of options.filter ?? []) args.push('--filter', `dir-merge,- ${f}`);
    const remote = (p: string) => `${this.target.host}:${p}`;
    if (direction === 'up') {
      // Create the parent first (rsync's --mkpath needs 3.2.3+ on both ends; many hosts are older).
      const parent = destination.endsWith('/') ? destination : posix.dirname(destination);
      await this.run(`mkdir -p ${remoteShellPath(parent)}`, { what: `mkdir -p ${parent}` });
      args.push(source, remote(destination));
    } else {
      mkdirSync(destination.endsWith('/') ? destination : dirname(destination), { recursive: true });
      args.push(remote(source), destination);
    }
    let delay = this.settings.backoffMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      const result = await this.spawn('rsync', args, { onLine: options.onLine });
      if (result.exitCode === 0) return;
      // rsync exits 255 (or 12 for a broken stream) when its ssh connection failed.
      const connection = result.exitCode === SSH_CONNECTION_ERROR || result.exitCode === 12;
      if (!connection) throw new SshCommandError(this.target.label, `rsync ${source} -> ${destination}`, result.exitCode, result.stderr);
      if (attempt >= this.settings.retries) throw new SshUnreachableError(this.target.label, `rsync: ${result.stderr.trim().split('\n').pop() ?? ''}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }

  /** Ends the shared connection (and its background ssh process). */
  async close(): Promise<void> {
    await execa('ssh', [...this.sshOptions(), '-O', 'exit', this.target.host], { reject: false, stdin: 'ignore', timeout: 5000 });
  }

  private async spawn(file: string, args: string[], options: RunOptions): Promise<RunResult> {
    const child: ResultPromise = execa(file, args, {
      reject: false,
      stdin: options.interactive ? 'inherit' : options.input !== undefined ? 'pipe' : 'ignore',
      stdout: options.interactive ? 'inherit' : 'pipe',
      stderr: options.interactive ? 'inherit' : 'pipe',
      timeout: options.timeoutMs,
      input: options.interactive ? undefined : options.input,
      stripFinalNewline: false,
      maxBuffer: 64 << 20,
    });
    if (options.onLine && !options.interactive) {
      const onLine = options.onLine;
      for (const name of ['stdout', 'stderr'] as const) {
        let partial = '';
        child[name]?.on('data', (chunk: Buffer) => {
          const text = partial + chunk.toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line, name);
        });
        child[name]?.on('end', () => {
          if (partial) onLine(partial, name);
        });
      }
    }
    const result = await child;
    if (result.timedOut) {
      return { stdout: String(result.stdout ?? ''), stderr: `${String(result.stderr ?? '')}\ntimed out after ${options.timeoutMs} ms`, exitCode: 124 };
    }
    return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: result.exitCode ?? 1 };
  }
}

/** The last line of a script (the command itself; earlier lines are the preamble), shortened for errors. */
function summarize(script: string): string {
  const line = script.trim().split('\n').pop() ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
