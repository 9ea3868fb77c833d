/**
 * Starts the job API with every head (a head service, see daemon/head/services.ts).
 *
 * Port: DHTS_JOBS_PORT in the head's environment (the launcher sets it from the config's jobs_port), else a free
 * port. The address is written to <tempDir>/jobs_address so that `dhts job …` on the head's host finds it.
 * Uploaded packages are kept in <tempDir>/packages and in the head's key-value store under `dhts:pkg:<hash>`,
 * from where any node can fetch and unpack them (see packages.ts ensureUnpacked).
 */
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerHeadService, type HeadServiceContext } from '../head/services.js';
import { JobManager } from './manager.js';
import { ensureUnpacked, parsePackageUri, storePackage } from './packages.js';
import { startJobServer } from './server.js';
import { PACKAGE_KV_PREFIX, WORKING_DIR_CACHE } from './working-dir.js';

export const JOBS_ADDRESS_FILE = 'jobs_address';

export async function startJobService(context: HeadServiceContext, options: { port?: number } = {}) {
  const packagesDir = join(context.tempDir, 'packages');
  const unpackRoot = join(context.tempDir, WORKING_DIR_CACHE);
  const packagePath = (hash: string) => join(packagesDir, `${hash}.tar.gz`);
  const manager = new JobManager({
    tempDir: context.tempDir,
    address: context.address,
    token: context.token,
    headCapacity: () => context.status().nodes.find((n) => n.isHead && n.alive)?.total,
    clusterCapacities: () => context.status().nodes.filter((n) => n.alive).map((n) => n.total),
    runner: fileURLToPath(new URL('./runner.js', import.meta.url)),
    resolveWorkingDir: async (uri) => {
      const hash = parsePackageUri(uri);
      return ensureUnpacked(unpackRoot, hash, async () => {
        if (existsSync(packagePath(hash))) return readFileSync(packagePath(hash));
        const fromKv = context.kvGet(`${PACKAGE_KV_PREFIX}${hash}`);
        if (fromKv === undefined) throw new Error(`package ${uri} was never uploaded`);
        return typeof fromKv === 'string' ? Buffer.from(fromKv) : fromKv;
      });
    },
  });
  const envPort = Number(process.env.DHTS_JOBS_PORT ?? '');
  const port = options.port ?? (Number.isInteger(envPort) && envPort > 0 ? envPort : 0);
  const server = await startJobServer({
    host: context.bindHost,
    port,
    token: context.token,
    manager,
    status: () => context.status(),
    hasPackage: (hash) => existsSync(packagePath(hash)),
    storePackage: (hash, bytes) => {
      storePackage(packagesDir, hash, bytes);
      context.kvPut(`${PACKAGE_KV_PREFIX}${hash}`, bytes);
    },
  });
  const addressFile = join(context.tempDir, JOBS_ADDRESS_FILE);
  writeFileSync(addressFile, `${server.address}\n`);
  return {
    description: `job API (gRPC) at ${server.address}`,
    manager,
    server,
    async stop() {
      server.setServing(false);
      await manager.close();
      await server.stop();
      rmSync(addressFile, { force: true });
    },
  };
}

registerHeadService({ name: 'jobs', start: (context) => startJobService(context) });
