/**
 * Cluster config files: Ray's local-provider YAML (read unchanged) plus our own fields.
 *
 * Every error names the file, the line and the field. Ray fields that only matter to Ray's autoscaler are
 * accepted and reported as warnings; fields that would change what runs (docker, node types, a coordinator)
 * are refused, because silently ignoring them would start something other than what the file says.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ClusterConfigError } from './errors.js';

export type TokenSource = { kind: 'auto' } | { kind: 'file'; path: string } | { kind: 'env'; name: string };

export interface ClusterConfig {
  /** Absolute path of the file read (or the name given for a string). */
  readonly file: string;
  readonly clusterName: string;
  readonly headIp: string;
  /** The address the launcher uses to reach the head (Ray's external_head_ip), default headIp. */
  readonly externalHeadIp: string;
  readonly workerIps: readonly string[];
  readonly auth: {
    readonly sshUser: string;
    readonly sshPrivateKey?: string;
    readonly sshProxyCommand?: string;
    readonly sshPort: number;
  };
  /** Remote path -> local path, copied to every host before setup. */
  readonly fileMounts: Readonly<Record<string, string>>;
  readonly rsyncExclude: readonly string[];
  readonly rsyncFilter: readonly string[];
  readonly initializationCommands: readonly string[];
  readonly setupCommands: readonly string[];
  readonly headSetupCommands: readonly string[];
  readonly workerSetupCommands: readonly string[];
  readonly headStartCommands: readonly string[];
  readonly workerStartCommands: readonly string[];
  readonly stopCommands: readonly string[];
  /** Head port (`dhts start --port`); Ray's default so that Ray files with `:6379` keep working. */
  readonly port: number;
  /** gRPC job API port on the head. */
  readonly jobsPort: number;
  /** Address the head listens on. */
  readonly bind: string;
  readonly token: TokenSource;
  /** Path of `node` on the hosts (its directory is put first on PATH), or undefined to use the PATH. */
  readonly node: string | undefined;
  /** Minimum major Node.js version checked on every host by `up`. */
  readonly nodeVersion: number;
  /** Command that runs the dhts CLI on the hosts. */
  readonly dhtsCommand: string;
  readonly env: Readonly<Record<string, string>>;
  /** Per-host directory root; each host uses <tempDir>/<cluster>/<host>. */
  readonly tempDir: string;
  readonly ssh: { readonly connectTimeoutS: number; readonly retries: number; readonly waitForSshS: number };
  /** Fields accepted but without effect here, and commands rewritten from Ray's. */
  readonly warnings: readonly string[];
}

const RAY_IGNORED = new Set([
  'max_workers', 'min_workers', 'upscaling_speed', 'idle_timeout_minutes', 'cluster_synced_files',
  'file_mounts_sync_continuously', 'metadata', 'no_restart',
]);
const RAY_REFUSED: Record<string, string> = {
  head_node_type: 'node types are not supported by the local provider (Ray rejects them too)',
  available_node_types: 'node types are not supported by the local provider (Ray rejects them too)',
  head_node: 'legacy field; list hosts in provider.head_ip / provider.worker_ips',
  worker_nodes: 'legacy field; list hosts in provider.head_ip / provider.worker_ips',
};
const TOP_LEVEL = new Set([
  'cluster_name', 'provider', 'auth', 'docker', 'file_mounts', 'rsync_exclude', 'rsync_filter',
  'initialization_commands', 'setup_commands', 'head_setup_commands', 'worker_setup_commands',
  'head_start_ray_commands', 'worker_start_ray_commands', 'head_start_commands', 'worker_start_commands',
  'stop_commands', 'port', 'jobs_port', 'bind', 'token', 'node', 'node_version', 'dhts_command', 'env', 'temp_dir', 'ssh',
  ...RAY_IGNORED, ...Object.keys(RAY_REFUSED),
]);

/** `dhts start` flags; any other flag of a translated `ray start` is dropped with a warning. */
const DHTS_START_FLAGS = new Set([
  '--head', '--address', '--port', '--bind', '--num-cpus', '--num-gpus', '--memory', '--resources', '--labels',
  '--token-file', '--temp-dir',
]);
/** Ray flags that take no value (so the next word is not swallowed when dropping them). */
const RAY_BOOLEAN_FLAGS = new Set([
  '--head', '--block', '--disable-usage-stats', '--no-monitor', '--verbose', '-v', '--enable-resource-isolation',
  '--enable-object-reconstruction', '--no-redirect-output',
]);

export const DEFAULT_HEAD_START = ['dhts stop', 'dhts start --head --port=$DHTS_PORT'];
export const DEFAULT_WORKER_START = ['dhts stop', 'dhts start --address=$DHTS_HEAD_IP:$DHTS_PORT'];

export function loadClusterConfig(path: string): ClusterConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClusterConfigError(file, '', `cannot read the file: ${(error as Error).message}`, undefined, { cause: error });
  }
  return parseClusterConfig(text, file);
}

export function parseClusterConfig(text: string, file: string): ClusterConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (node: YamlNode | null | undefined) => {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ClusterConfigError(file, '', `YAML syntax: ${e.message.split('\n')[0]}`, pos, { cause: e });
  }
  if (!isMap(doc.contents)) throw new ClusterConfigError(file, '', 'the file must be a YAML mapping of fields', at(doc.contents));
  const r = new Reader(doc, file, at);
  const warnings: string[] = [];

  for (const item of doc.contents.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (!TOP_LEVEL.has(key)) {
      throw new ClusterConfigError(file, key, `unknown field${suggest(key, TOP_LEVEL)}`, at(item.key as YamlNode));
    }
    if (key in RAY_REFUSED) throw new ClusterConfigError(file, key, RAY_REFUSED[key]!, at(item.key as YamlNode));
    if (RAY_IGNORED.has(key)) warnings.push(`${key}: accepted for Ray compatibility, has no effect (every listed host is started)`);
  }
  const docker = doc.getIn(['docker'], true) as YamlNode | undefined;
  if (docker && !(isMap(docker) && docker.items.length === 0)) {
    throw new ClusterConfigError(file, 'docker', 'docker containers are not supported; commands run on the hosts (remove the field or leave it {})', at(docker));
  }

  r.allowedKeys('provider', ['type', 'head_ip', 'worker_ips', 'external_head_ip', 'use_internal_ips', 'coordinator_address', 'cache_stopped_nodes', 'disable_node_updaters']);
  const providerType = r.str(['provider', 'type'], { required: true });
  if (providerType !== 'local') {
    throw new ClusterConfigError(file, 'provider.type', `only "local" is supported (got "${providerType}")`, r.pos(['provider', 'type']));
  }
  if (r.has(['provider', 'coordinator_address'])) {
    throw new ClusterConfigError(file, 'provider.coordinator_address', 'coordinator mode is not supported; list the hosts in head_ip / worker_ips', r.pos(['provider', 'coordinator_address']));
  }
  const headIp = r.host(['provider', 'head_ip'], { required: true })!;
  const workerIps = r.strList(['provider', 'worker_ips']).map((ip, i) => r.checkHost(['provider', 'worker_ips', i], ip));
  const seen = new Map<string, string>([[headIp, 'provider.head_ip']]);
  workerIps.forEach((ip, i) => {
    const prev = seen.get(ip);
    if (prev) throw new ClusterConfigError(file, `provider.worker_ips[${i}]`, `host "${ip}" is listed twice (also in ${prev})`, r.pos(['provider', 'worker_ips', i]));
    seen.set(ip, `provider.worker_ips[${i}]`);
  });

  r.allowedKeys('auth', ['ssh_user', 'ssh_private_key', 'ssh_public_key', 'ssh_proxy_command', 'ssh_port']);
  const sshPrivateKey = r.str(['auth', 'ssh_private_key']);
  const auth = {
    sshUser: r.str(['auth', 'ssh_user'], { required: true })!,
    sshPrivateKey: sshPrivateKey ? expandPath(sshPrivateKey, file) : undefined,
    sshProxyCommand: r.str(['auth', 'ssh_proxy_command']),
    sshPort: r.int(['auth', 'ssh_port'], { min: 1, max: 65535, default: 22 }),
  };

  const commands = (key: string): string[] => r.strList([key]);
  const rayHead = r.has(['head_start_ray_commands']);
  const ours = r.has(['head_start_commands']);
  if (rayHead && ours) {
    throw new ClusterConfigError(file, 'head_start_commands', 'give either head_start_commands or head_start_ray_commands, not both', r.pos(['head_start_commands']));
  }
  if (r.has(['worker_start_ray_commands']) && r.has(['worker_start_commands'])) {
    throw new ClusterConfigError(file, 'worker_start_commands', 'give either worker_start_commands or worker_start_ray_commands, not both', r.pos(['worker_start_commands']));
  }
  const translate = (key: string, list: string[]) =>
    list.map((cmd) => {
      const out = translateRayCommand(cmd);
      if (out.dropped.length) warnings.push(`${key}: dropped Ray-only flag(s) ${out.dropped.join(' ')} from "${cmd}"`);
      return out.command;
    });
  const headStart = r.has(['head_start_ray_commands'])
    ? translate('head_start_ray_commands', commands('head_start_ray_commands'))
    : r.has(['head_start_commands']) ? translate('head_start_commands', commands('head_start_commands')) : DEFAULT_HEAD_START;
  const workerStart = r.has(['worker_start_ray_commands'])
    ? translate('worker_start_ray_commands', commands('worker_start_ray_commands'))
    : r.has(['worker_start_commands']) ? translate('worker_start_commands', commands('worker_start_commands')) : DEFAULT_WORKER_START;

  const fileMounts = r.strMap(['file_mounts']);
  for (const [remote, local] of Object.entries(fileMounts)) {
    (fileMounts as Record<string, string>)[remote] = expandPath(local, file);
  }

  let token: TokenSource = { kind: 'auto' };
  const tokenNode = doc.getIn(['token'], true) as YamlNode | undefined;
  if (tokenNode !== undefined) {
    if (isScalar(tokenNode) && tokenNode.value === 'auto') token = { kind: 'auto' };
    else if (isMap(tokenNode)) {
      r.allowedKeys('token', ['file', 'env']);
      const f = r.str(['token', 'file']);
      const e = r.str(['token', 'env']);
      if ((f === undefined) === (e === undefined)) throw new ClusterConfigError(file, 'token', 'give exactly one of token.file or token.env', at(tokenNode));
      token = f !== undefined ? { kind: 'file', path: expandPath(f, file) } : { kind: 'env', name: e! };
    } else {
      throw new ClusterConfigError(file, 'token', 'expected "auto", {file: PATH} or {env: VAR} (the token itself never goes in the config)', at(tokenNode));
    }
  }

  r.allowedKeys('ssh', ['connect_timeout_s', 'retries', 'wait_for_ssh_s']);
  const env = r.strMap(['env']);
  for (const [k, _v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ClusterConfigError(file, `env.${k}`, 'not a valid environment variable name', r.pos(['env', k]));
  }
  const node = r.str(['node']);
  const clusterName = r.str(['cluster_name']) ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(clusterName)) {
    throw new ClusterConfigError(file, 'cluster_name', 'use letters, digits, ".", "_" and "-" only (it names directories)', r.pos(['cluster_name']));
  }
  const tempDir = r.str(['temp_dir']) ?? '/tmp/dhts';
  if (!tempDir.startsWith('/')) throw new ClusterConfigError(file, 'temp_dir', 'must be an absolute path on the hosts', r.pos(['temp_dir']));

  return {
    file,
    clusterName,
    headIp,
    externalHeadIp: r.host(['provider', 'external_head_ip']) ?? headIp,
    workerIps,
    auth,
    fileMounts,
    rsyncExclude: r.strList(['rsync_exclude']),
    rsyncFilter: r.strList(['rsync_filter']),
    initializationCommands: commands('initialization_commands'),
    setupCommands: commands('setup_commands'),
    headSetupCommands: commands('head_setup_commands'),
    workerSetupCommands: commands('worker_setup_commands'),
    headStartCommands: headStart,
    workerStartCommands: workerStart,
    stopCommands: r.has(['stop_commands']) ? translate('stop_commands', commands('stop_commands')) : ['dhts stop'],
    port: r.int(['port'], { min: 1, max: 65535, default: 6379 }),
    jobsPort: r.int(['jobs_port'], { min: 1, max: 65535, default: 8265 }),
    bind: r.str(['bind']) ?? '0.0.0.0',
    token,
    node,
    nodeVersion: r.int(['node_version'], { min: 18, max: 99, default: 20 }),
    dhtsCommand: r.str(['dhts_command']) ?? 'dhts',
    env,
    tempDir,
    ssh: {
      connectTimeoutS: r.int(['ssh', 'connect_timeout_s'], { min: 1, max: 600, default: 10 }),
      retries: r.int(['ssh', 'retries'], { min: 0, max: 100, default: 3 }),
      waitForSshS: r.int(['ssh', 'wait_for_ssh_s'], { min: 0, max: 3600, default: 60 }),
    },
    warnings,
  };
}

/** Local paths in a config are relative to the config file; `~` is the user's home. */
function expandPath(p: string, file: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(dirname(file), p);
}

function suggest(key: string, known: Iterable<string>): string {
  let best = '';
  let bestScore = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestScore) {
      bestScore = d;
      best = k;
    }
  }
  return bestScore <= 3 ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

type Path = readonly (string | number)[];

/** Typed access to the document, with positions for errors. */
class Reader {
  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly at: (node: YamlNode | null | undefined) => { line: number; col: number } | undefined,
  ) {}
  private node(path: Path): YamlNode | undefined {
    return this.doc.getIn(path, true) as YamlNode | undefined;
  }
  private name(path: Path): string {
    return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  }
  has(path: Path): boolean {
    const n = this.node(path);
    return n !== undefined && !(isScalar(n) && n.value === null);
  }
  pos(path: Path) {
    for (let p = path; p.length > 0; p = p.slice(0, -1)) {
      const n = this.node(p);
      if (n) return this.at(n);
    }
    return undefined;
  }
  private fail(path: Path, problem: string): never {
    throw new ClusterConfigError(this.file, this.name(path), problem, this.pos(path));
  }
  allowedKeys(section: string, keys: string[]): void {
    const n = this.node([section]);
    if (n === undefined || (isScalar(n) && n.value === null)) return;
    if (!isMap(n)) this.fail([section], 'expected a mapping');
    for (const item of n.items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      if (!keys.includes(key)) {
        throw new ClusterConfigError(this.file, `${section}.${key}`, `unknown field${suggest(key, keys)}`, this.at(item.key as YamlNode));
      }
    }
  }
  str(path: Path, opts: { required?: boolean } = {}): string | undefined {
    const n = this.node(path);
    if (n === undefined || (isScalar(n) && n.value === null)) {
      if (opts.required) this.fail(path, 'is required');
      return undefined;
    }
    if (!isScalar(n) || typeof n.value === 'object' || typeof n.value === 'boolean') this.fail(path, 'expected a string');
    const s = String(n.value);
    if (opts.required && s.trim() === '') this.fail(path, 'must not be empty');
    return s;
  }
  int(path: Path, opts: { min: number; max: number; default: number }): number {
    const n = this.node(path);
    if (n === undefined || (isScalar(n) && n.value === null)) return opts.default;
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, 'expected an integer');
    if (v < opts.min || v > opts.max) this.fail(path, `must be between ${opts.min} and ${opts.max} (got ${v})`);
    return v;
  }
  host(path: Path, opts: { required?: boolean } = {}): string | undefined {
    const s = this.str(path, opts);
    return s === undefined ? undefined : this.checkHost(path, s);
  }
  checkHost(path: Path, s: string): string {
    if (!/^[A-Za-z0-9._:-]+$/.test(s) || s.startsWith('-')) this.fail(path, `"${s}" is not a host name or IP address`);
    return s;
  }
  strList(path: Path): string[] {
    const n = this.node(path);
    if (n === undefined || (isScalar(n) && n.value === null)) return [];
    if (!isSeq(n)) this.fail(path, 'expected a list');
    return n.items.map((item, i) => {
      if (!isScalar(item) || item.value === null || typeof item.value === 'object') this.fail([...path, i], 'expected a string');
      return String(item.value);
    });
  }
  strMap(path: Path): Record<string, string> {
    const n = this.node(path);
    if (n === undefined || (isScalar(n) && n.value === null)) return {};
    if (!isMap(n)) this.fail(path, 'expected a mapping');
    const out: Record<string, string> = {};
    for (const item of n.items) {
      const key = isScalar(item.key) ? String(item.key.value) : '';
      const v = item.value as YamlNode | null;
      if (!isScalar(v) || v.value === null || typeof v.value === 'object') this.fail([...path, key], 'expected a string value');
      out[key] = String(v.value);
    }
    return out;
  }
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** Splits a shell command into words and separators, keeping offsets (quotes are kept inside words). */
function shellTokens(cmd: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < cmd.length) {
    const c = cmd[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = cmd.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ text: two, start: i, end: i + 2 });
      i += 2;
      continue;
    }
    if (c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
      tokens.push({ text: c, start: i, end: i + 1 });
      i++;
      continue;
    }
    const start = i;
    while (i < cmd.length && !/[\s;|&()]/.test(cmd[i]!)) {
      const q = cmd[i]!;
      if (q === "'" || q === '"') {
        const close = cmd.indexOf(q, i + 1);
        i = close < 0 ? cmd.length : close + 1;
      } else if (q === '\\') i += 2;
      else i++;
    }
    tokens.push({ text: cmd.slice(start, i), start, end: i });
  }
  return tokens;
}

const SEPARATORS = new Set([';', '&&', '||', '|', '&', '(', ')']);

/**
 * Maps Ray's CLI to ours: `ray start|stop|status` become `dhts …`, and flags of `ray start` that dhts does not
 * know are removed (reported in `dropped`). `--block` is dropped too: a start command must return.
 */
export function translateRayCommand(cmd: string): { command: string; dropped: string[] } {
  const tokens = shellTokens(cmd);
  const cut: Array<[number, number]> = [];
  const rename: number[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!.text;
    const prevSep = i === 0 || SEPARATORS.has(tokens[i - 1]!.text);
    if (!prevSep || (word !== 'ray' && word !== 'dhts')) continue;
    const sub = tokens[i + 1]?.text;
    if (word === 'ray' && (sub === 'start' || sub === 'stop' || sub === 'status')) rename.push(i);
    if (sub !== 'start') continue;
    for (let j = i + 2; j < tokens.length && !SEPARATORS.has(tokens[j]!.text); j++) {
      const t = tokens[j]!.text;
      if (!t.startsWith('-')) continue;
      const flag = t.split('=')[0]!;
      if (DHTS_START_FLAGS.has(flag)) continue;
      let end = j;
      const next = tokens[j + 1];
      if (!t.includes('=') && !RAY_BOOLEAN_FLAGS.has(flag) && next && !SEPARATORS.has(next.text) && !next.text.startsWith('-')) end = j + 1;
      cut.push([tokens[j]!.start, tokens[end]!.end]);
      dropped.push(tokens.slice(j, end + 1).map((x) => x.text).join(' '));
      j = end;
    }
  }
  let out = cmd;
  const edits: Array<{ start: number; end: number; text: string }> = [
    ...cut.map(([start, end]) => ({ start, end, text: '' })),
    ...rename.map((i) => ({ start: tokens[i]!.start, end: tokens[i]!.end, text: 'dhts' })),
  ].sort((a, b) => b.start - a.start);
  for (const e of edits) {
    // Remove the space before a cut flag so the result stays tidy.
    const start = e.text === '' && out[e.start - 1] === ' ' ? e.start - 1 : e.start;
    out = out.slice(0, start) + e.text + out.slice(e.end);
  }
  return { command: out, dropped };
}
