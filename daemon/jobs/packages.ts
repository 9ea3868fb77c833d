/**
 * Working-directory packages: a directory packed into a gzipped tar whose SHA-256 names it ("pkg://<hash>"),
 * uploaded once and unpacked once per node into a cache that workers and job entrypoints run from.
 *
 * Packing is deterministic (sorted entries, no owner or time stamps), so the same files give the same hash and
 * a second submission of an unchanged directory uploads nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create as tarCreate, extract as tarExtract } from 'tar';
import { PackageError } from './errors.js';
import { IgnoreRules } from './gitignore.js';

export const PACKAGE_URI_PREFIX = 'pkg://';
/** Like Ray's cap on working_dir packages: above this, ship code another way (file_mounts, a shared FS). */
export const MAX_PACKAGE_BYTES = 100 * 1024 * 1024;
/** Never packed: VCS data, and installed dependencies (nodes get theirs from their own install, see linkNodeModules). */
export const DEFAULT_EXCLUDES = ['.git', '.hg', '.svn', 'node_modules', '.DS_Store'];

export interface PackedDirectory {
  readonly sha256: string;
  readonly uri: string;
  readonly bytes: Buffer;
  readonly files: number;
}

export function packageUri(sha256: string): string {
  return `${PACKAGE_URI_PREFIX}${sha256}`;
}

export function parsePackageUri(uri: string): string {
  const hash = uri.startsWith(PACKAGE_URI_PREFIX) ? uri.slice(PACKAGE_URI_PREFIX.length) : '';
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new PackageError(`not a package URI: "${uri}" (expected pkg://<64 hex chars>)`);
  return hash;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Lists the files to pack, relative to `dir`, honouring `excludes` and every .gitignore below `dir`. */
export function listPackableFiles(dir: string, excludes: readonly string[] = []): string[] {
  const root = resolve(dir);
  const rules = new IgnoreRules();
  rules.add([...DEFAULT_EXCLUDES, ...excludes]);
  const files: string[] = [];
  const walk = (relDir: string) => {
    const abs = relDir ? join(root, relDir) : root;
    const gitignore = join(abs, '.gitignore');
    if (existsSync(gitignore)) rules.add(readFileSync(gitignore, 'utf8'), relDir);
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (rules.ignores(rel, isDir)) continue;
      if (isDir) walk(rel);
      else if (entry.isFile() || entry.isSymbolicLink()) files.push(rel);
    }
  };
  walk('');
  return files;
}

export async function packDirectory(dir: string, options: { excludes?: readonly string[]; maxBytes?: number } = {}): Promise<PackedDirectory> {
  const root = resolve(dir);
  if (!existsSync(root) || !lstatSync(root).isDirectory()) throw new PackageError(`working dir "${dir}" is not a directory`);
  const files = listPackableFiles(root, options.excludes);
  const max = options.maxBytes ?? MAX_PACKAGE_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = tarCreate({ cwd: root, gzip: { portable: true }, portable: true, noMtime: true, noDirRecurse: true, follow: true }, files);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      throw new PackageError(
        `working dir "${dir}" packs to more than ${Math.round(max / 1048576)} MiB: exclude large files (excludes, .gitignore) or copy them with file_mounts`,
      );
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const sha256 = sha256Hex(bytes);
  return { sha256, uri: packageUri(sha256), bytes, files: files.length };
}

/** Stores package bytes under `<root>/<hash>.tar.gz` after checking the hash; returns the path. */
export function storePackage(root: string, sha256: string, bytes: Uint8Array): string {
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new PackageError(`package hash mismatch: expected ${sha256}, got ${actual}`);
  mkdirSync(root, { recursive: true });
  const path = join(root, `${sha256}.tar.gz`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  return path;
}

/**
 * Unpacks a package into `<cacheRoot>/<hash>/` unless already there and returns that directory. Safe when
 * several processes on one node do it at once: each extracts into its own temp dir and renames it in place.
 * `fetch` is called only when the package is not unpacked yet.
 */
export async function ensureUnpacked(cacheRoot: string, sha256: string, fetch: () => Promise<Uint8Array>): Promise<string> {
  const target = join(cacheRoot, sha256);
  if (existsSync(join(target, '.dhts-complete'))) return target;
  const bytes = await fetch();
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw new PackageError(`package hash mismatch: expected ${sha256}, got ${actual}`);
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `.${sha256}.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const extractor = tarExtract({ cwd: tmp, strict: true, preservePaths: false });
      extractor.on('error', reject);
      extractor.on('close', () => resolvePromise());
      extractor.end(Buffer.from(bytes));
    });
    linkNodeModules(tmp);
    writeFileSync(join(tmp, '.dhts-complete'), `${sha256}\n`);
    try {
      renameSync(tmp, target);
    } catch (error) {
      // Another process won the race: its copy is identical.
      if (!existsSync(join(target, '.dhts-complete'))) throw error;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error instanceof PackageError ? error : new PackageError(`cannot unpack package ${sha256}: ${(error as Error).message}`, { cause: error });
  }
  return target;
}

/**
 * node_modules is not packed, so an unpacked working dir gets a `node_modules` link to this node's own: the
 * DHTS_NODE_MODULES directory when set (e.g. in the cluster config's env), otherwise the node_modules that holds
 * the running deephyper-ts install (the project that `dhts_command` runs from), so bare imports resolve.
 */
export function linkNodeModules(dir: string): void {
  const link = join(dir, 'node_modules');
  if (existsSync(link)) return;
  const target = process.env.DHTS_NODE_MODULES || installNodeModules();
  if (target && existsSync(target)) symlinkSync(target, link, 'dir');
}

function installNodeModules(): string | undefined {
  // dist/daemon/jobs/packages.js -> the package root is three levels up.
  const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const parent = dirname(pkgRoot);
  if (basename(parent) === 'node_modules') return parent;
  const own = join(pkgRoot, 'node_modules');
  return existsSync(own) ? own : undefined;
}

/** True when `child` is inside `parent` (both absolute). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}
