/**
 * `dhts job submit|status|logs|list|stop|delete|nodes`: the job API from the command line, shaped like `ray job`.
 * Registered on the dhts program by `registerJobCommands(program)`.
 *
 * Address: --address, else DHTS_JOBS_ADDRESS, else <temp dir>/jobs_address (on the head's host), else the
 * job port of --cluster-config. Token: --token-file, else DHTS_TOKEN, else <temp dir>/token, else the
 * cluster config's token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { keyValue, nonNegativeNumber } from '../cli/flags.js';
import { JobClient } from './client.js';
import { JobError } from './errors.js';
import type { WireJobInfo } from './proto.js';
import { JOBS_ADDRESS_FILE } from './service.js';
import { shellQuote } from '../launcher/ssh.js';
import { LauncherError } from '../launcher/errors.js';
import { runCommand } from '../cli/run-command.js';

interface ConnectionFlags {
  address?: string;
  tokenFile?: string;
  tempDir?: string;
  clusterConfig?: string;
}

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function connect(flags: ConnectionFlags): Promise<JobClient> {
  const tempDir = flags.tempDir ?? process.env.DHTS_TEMP_DIR ?? '/tmp/dhts';
  let address = flags.address ?? process.env.DHTS_JOBS_ADDRESS ?? readTrim(join(tempDir, JOBS_ADDRESS_FILE));
  let token = flags.tokenFile ? readTrim(flags.tokenFile) : undefined;
  if (flags.tokenFile && !token) throw new JobError('UNAUTHENTICATED', `--token-file ${flags.tokenFile}: cannot read a token from it`);
  token ??= process.env.DHTS_TOKEN;
  if (flags.clusterConfig && (!address || !token)) {
    const { ClusterLauncher } = await import('../launcher/cluster.js');
    const { loadClusterConfig } = await import('../launcher/config.js');
    const launcher = new ClusterLauncher(loadClusterConfig(flags.clusterConfig));
    address ??= launcher.jobsAddress;
    token ??= launcher.token();
  }
  token ??= readTrim(join(tempDir, 'token'));
  if (!address) {
    throw new JobError('JOB_API_UNAVAILABLE', `no job API address: pass --address HEAD:PORT (the head prints it), --cluster-config FILE, or set DHTS_JOBS_ADDRESS`);
  }
  return new JobClient({ address, token });
}

/** Runs one job-API command with a client connected per the flags, closed whatever happens. */
function withClient(flags: ConnectionFlags, body: (client: JobClient) => Promise<number | void>): Promise<void> {
  return run(async () => {
    const client = await connect(flags);
    try {
      return await body(client);
    } finally {
      client.close();
    }
  });
}

function withConnection(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', 'job API of the head (default: DHTS_JOBS_ADDRESS, then <temp-dir>/jobs_address)')
    .option('--token-file <path>', 'file holding the cluster token (default: DHTS_TOKEN, then <temp-dir>/token)')
    .option('--temp-dir <dir>', "the head's temp dir, when running on the head's host")
    .option('--cluster-config <yaml>', "take the address and token from a launcher config (dhts up)");
}

function run(body: () => Promise<number | void>): Promise<void> {
  return runCommand(body, (e) => e instanceof JobError || e instanceof LauncherError);
}

/** Follows a job's log to stdout, then prints how it ended; exit code 1 when it FAILED (as `ray job submit`). */
async function follow(client: JobClient, id: string): Promise<number> {
  for await (const chunk of client.tailJobLogs(id)) process.stdout.write(chunk);
  const info = await client.waitUntilEnded(id);
  const how = info.status === 'SUCCEEDED' ? 'succeeded' : info.status === 'STOPPED' ? 'was stopped' : 'failed';
  process.stderr.write(`Job '${id}' ${how}${info.status === 'FAILED' ? `: ${info.message.split('\n')[0]}` : ''}\n`);
  return info.status === 'FAILED' ? 1 : 0;
}

function formatJob(j: WireJobInfo): string {
  const time = (ms: number) => (ms ? new Date(ms).toISOString() : '-');
  return [
    `submission_id: ${j.submissionId}`,
    `status:        ${j.status}`,
    `entrypoint:    ${j.entrypoint}`,
    `message:       ${j.message}`,
    ...(j.errorType ? [`error_type:    ${j.errorType}`] : []),
    `start_time:    ${time(j.startTime)}`,
    `end_time:      ${time(j.endTime)}`,
    ...(j.runtimeEnv?.workingDir ? [`working_dir:   ${j.runtimeEnv.workingDir}`] : []),
    ...(Object.keys(j.metadata).length ? [`metadata:      ${JSON.stringify(j.metadata)}`] : []),
  ].join('\n');
}

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('submit and manage jobs on a running cluster (gRPC job API)');

  withConnection(job.command('submit'))
    .description('run an entrypoint command on the cluster; follows its log unless --no-wait')
    .argument('<entrypoint...>', 'the command, after --')
    .option('--working-dir <dir>', 'pack this directory (honouring .gitignore) and run the entrypoint in its copy on the head')
    .option('--exclude <pattern>', 'gitignore-style pattern left out of the working dir (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--submission-id <id>')
    .option('--env <KEY=VALUE>', 'environment variable for the entrypoint (repeatable)', keyValue('--env'))
    .option('--metadata <KEY=VALUE>', 'metadata (repeatable)', keyValue('--metadata'))
    .option('--entrypoint-num-cpus <n>', 'CPUs reserved for the entrypoint', nonNegativeNumber('--entrypoint-num-cpus'))
    .option('--entrypoint-num-gpus <n>', 'GPUs reserved for the entrypoint', nonNegativeNumber('--entrypoint-num-gpus'))
    .option('--entrypoint-memory <bytes>', 'memory reserved for the entrypoint', nonNegativeNumber('--entrypoint-memory'))
    .addOption(new Option('--entrypoint-resources <json>', 'custom resources reserved for the entrypoint').argParser((v) => JSON.parse(v) as Record<string, number>))
    .option('--no-wait', 'print the id and return at once')
    .action((entrypoint: string[], o: ConnectionFlags & {
      workingDir?: string; exclude?: string[]; submissionId?: string; env?: Record<string, string>; metadata?: Record<string, string>;
      entrypointNumCpus?: number; entrypointNumGpus?: number; entrypointMemory?: number; entrypointResources?: Record<string, number>; wait: boolean;
    }) => withClient(o, async (client) => {
      const command = entrypoint.length === 1 ? entrypoint[0]! : entrypoint.map(shellQuote).join(' ');
      const id = await client.submitJob({
        entrypoint: command,
        submissionId: o.submissionId,
        workingDir: o.workingDir,
        excludes: o.exclude,
        envVars: o.env,
        metadata: o.metadata,
        entrypointNumCpus: o.entrypointNumCpus,
        entrypointNumGpus: o.entrypointNumGpus,
        entrypointMemory: o.entrypointMemory,
        entrypointResources: o.entrypointResources,
      });
      process.stderr.write(`Job '${id}' submitted successfully\n`);
      if (!o.wait) {
        process.stdout.write(`${id}\n`);
        return 0;
      }
      return await follow(client, id);
    }));

  withConnection(job.command('status'))
    .argument('<id>')
    .option('--json')
    .action((id: string, o: ConnectionFlags & { json?: boolean }) => withClient(o, async (client) => {
      const info = await client.getJob(id);
      process.stdout.write(`${o.json ? JSON.stringify(info, null, 2) : formatJob(info)}\n`);
    }));

  withConnection(job.command('logs'))
    .argument('<id>')
    .option('-f, --follow', 'keep printing until the job ends')
    .action((id: string, o: ConnectionFlags & { follow?: boolean }) => withClient(o, async (client) => {
      if (o.follow) return await follow(client, id);
      process.stdout.write(await client.getJobLogs(id));
      return 0;
    }));

  withConnection(job.command('list'))
    .option('--json')
    .action((o: ConnectionFlags & { json?: boolean }) => withClient(o, async (client) => {
      const jobs = await client.listJobs();
      if (o.json) process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
      else {
        process.stdout.write(`${'SUBMISSION_ID'.padEnd(30)} ${'STATUS'.padEnd(10)} ENTRYPOINT\n`);
        for (const j of jobs) process.stdout.write(`${j.submissionId.padEnd(30)} ${j.status.padEnd(10)} ${j.entrypoint}\n`);
      }
    }));

  withConnection(job.command('stop'))
    .argument('<id>')
    .action((id: string, o: ConnectionFlags) => withClient(o, async (client) => {
      const stopped = await client.stopJob(id);
      process.stdout.write(stopped ? `Job '${id}' was stopped\n` : `Job '${id}' had already ended\n`);
    }));

  withConnection(job.command('delete'))
    .argument('<id>')
    .action((id: string, o: ConnectionFlags) => withClient(o, async (client) => {
      await client.deleteJob(id);
      process.stdout.write(`Job '${id}' deleted\n`);
    }));

  withConnection(job.command('nodes'))
    .description("the head's node table")
    .option('--json')
    .action((o: ConnectionFlags & { json?: boolean }) => withClient(o, async (client) => {
      const nodes = await client.listNodes();
      if (o.json) process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
      else for (const n of nodes) process.stdout.write(`${n.nodeId} ${n.alive ? 'ALIVE' : 'DEAD '} ${n.isHead ? 'head  ' : 'worker'} ${n.address || n.hostname} ${JSON.stringify(n.total)}\n`);
    }));
}
