/**
 * Working dirs on every node: module URLs that point into a working-dir package are mapped to this node's own
 * unpacked copy, fetched once from the head's key-value store (`dhts:pkg:<hash>`) and unpacked before import.
 *
 * Two URL forms name a file of a package:
 *   file:///<any node dir>/runtime_resources/working_dir/<sha256>/<path>   (a driver running from an unpacked copy,
 *                                                                           e.g. a job's entrypoint on the head)
 *   pkg://<sha256>/<path>                                                  (a driver that uploaded its own dir)
 * Any other URL is returned unchanged, so code on a shared filesystem keeps working as before.
 */
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { PackageError } from './errors.js';
import { ensureUnpacked, packDirectory, packageUri, PACKAGE_URI_PREFIX } from './packages.js';

export const PACKAGE_KV_PREFIX = 'dhts:pkg:';
/** Below a node's temp dir. */
export const WORKING_DIR_CACHE = join('runtime_resources', 'working_dir');

let currentNodeTempDir = process.env.DHTS_TEMP_DIR || '/tmp/dhts';
/** The temp dir of the node this process runs on (a worker is told by its agent). */
export function setNodeTempDir(dir: string): void {
  currentNodeTempDir = dir;
}
export function nodeTempDir(): string {
  return currentNodeTempDir;
}

const IN_UNPACKED = /\/runtime_resources\/working_dir\/([0-9a-f]{64})\/(.+)$/;
const PKG_URL = /^pkg:\/\/([0-9a-f]{64})\/(.+)$/;

export function packageFileOfUrl(url: string): { sha256: string; path: string } | undefined {
  const pkg = PKG_URL.exec(url);
  if (pkg) return { sha256: pkg[1]!, path: pkg[2]! };
  if (!url.startsWith('file:')) return undefined;
  const m = IN_UNPACKED.exec(new URL(url).pathname);
  return m ? { sha256: m[1]!, path: decodeURIComponent(m[2]!) } : undefined;
}

export interface LocalizeOptions {
  /** This node's temp dir; packages unpack to <tempDir>/runtime_resources/working_dir/<sha256>. */
  readonly tempDir: string;
  /** Package bytes by hash (from the head's KV store). */
  readonly fetch: (sha256: string) => Promise<Uint8Array>;
}

/** The URL to import on this node for `url` (unpacking its package here first when needed). */
export async function localizeModuleUrl(url: string, options: LocalizeOptions): Promise<string> {
  const file = packageFileOfUrl(url);
  if (!file) return url;
  const dir = await ensureUnpacked(join(options.tempDir, WORKING_DIR_CACHE), file.sha256, () => options.fetch(file.sha256));
  const target = resolve(dir, file.path);
  if (relative(dir, target).startsWith('..') || relative(dir, target).startsWith(sep)) {
    throw new PackageError(`module path "${file.path}" leaves its working dir`);
  }
  return pathToFileURL(target).href + (url.includes('?') ? url.slice(url.indexOf('?')) : '');
}

/** Fetches a package through a KV getter (the SDK's kvGet or a worker's core request). */
export function kvPackageFetcher(kvGet: (key: string) => Promise<Uint8Array | string | undefined | null>) {
  return async (sha256: string): Promise<Uint8Array> => {
    const value = await kvGet(`${PACKAGE_KV_PREFIX}${sha256}`);
    if (value === undefined || value === null) throw new PackageError(`package ${PACKAGE_URI_PREFIX}${sha256} is not in the head's store (was it uploaded to this cluster?)`);
    return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  };
}

/**
 * For a driver: packs `dir`, stores it in the head's KV unless there, and returns a function that maps module URLs
 * inside `dir` to their pkg:// form (what workers on other nodes can resolve).
 */
export async function uploadDriverWorkingDir(
  dir: string,
  kv: { get: (key: string) => Promise<Uint8Array | string | undefined | null>; put: (key: string, value: Uint8Array) => Promise<unknown> },
  excludes: readonly string[] = [],
): Promise<{ uri: string; toPackageUrl: (url: string) => string }> {
  const root = resolve(dir);
  const packed = await packDirectory(root, { excludes });
  const key = `${PACKAGE_KV_PREFIX}${packed.sha256}`;
  if ((await kv.get(key)) == null) await kv.put(key, packed.bytes);
  const toPackageUrl = (url: string): string => {
    if (!url.startsWith('file:')) return url;
    const rel = relative(root, fileURLToPath(url));
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return url;
    return `${PACKAGE_URI_PREFIX}${packed.sha256}/${rel.split(sep).join('/')}`;
  };
  return { uri: packageUri(packed.sha256), toPackageUrl };
}
