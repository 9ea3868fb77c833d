/**
 * Files a node keeps in its temp dir (default /tmp/dhts, like Ray's /tmp/ray):
 *   dhts_current_cluster   address of the last head started here (read by `address: 'auto'`)
 *   token                  the cluster token, mode 0600
 *   daemons/<pid>.json     one per running daemon, for `dhts stop`
 *   logs/                  daemon and worker logs
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_TEMP_DIR = '/tmp/dhts';
export const ADDRESS_FILE = 'dhts_current_cluster';
export const TOKEN_FILE = 'token';

export function addressFile(tempDir: string): string {
  return join(tempDir, ADDRESS_FILE);
}
export function tokenFile(tempDir: string): string {
  return join(tempDir, TOKEN_FILE);
}

export function readTrimmed(path: string): string | undefined {
  try {
    const s = readFileSync(path, 'utf8').trim();
    return s || undefined;
  } catch {
    return undefined;
  }
}

export function writeSecret(path: string, content: string): void {
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export interface DaemonRecord {
  pid: number;
  kind: 'head' | 'agent' | 'head+agent';
  address: string;
  nodeId?: string;
  startedAt: string;
}

export function writeDaemonRecord(tempDir: string, record: DaemonRecord): string {
  const dir = join(tempDir, 'daemons');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${record.pid}.json`);
  writeFileSync(path, JSON.stringify(record));
  return path;
}

export function listDaemonRecords(tempDir: string): { path: string; record: DaemonRecord }[] {
  const dir = join(tempDir, 'daemons');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { path: string; record: DaemonRecord }[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    const path = join(dir, n);
    try {
      out.push({ path, record: JSON.parse(readFileSync(path, 'utf8')) as DaemonRecord });
    } catch {
      rmSync(path, { force: true });
    }
  }
  return out;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
