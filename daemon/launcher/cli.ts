/**
 * `dhts up|down|exec|attach|rsync-up|rsync-down|submit|cluster-status|get-head-ip|get-worker-ips CONFIG …`:
 * the SSH cluster launcher's commands, registered on the dhts program by `registerLauncherCommands(program)`.
 */
import type { Command } from 'commander';
import { ClusterLauncher } from './cluster.js';
import { loadClusterConfig } from './config.js';
import { LauncherError } from './errors.js';
import { runCommand } from '../cli/run-command.js';

function launcher(configPath: string): ClusterLauncher {
  return new ClusterLauncher(loadClusterConfig(configPath));
}

/** Runs a command body; launcher errors become one clear message and exit code 1 (no stack trace). */
function guarded(body: () => Promise<number | void>): Promise<void> {
  return runCommand(body, (e) => e instanceof LauncherError);
}

export function registerLauncherCommands(program: Command): void {
  program
    .command('up')
    .description('start (or repair) the cluster of a config file over SSH and wait until every node joined')
    .argument('<config>', 'cluster config YAML (Ray local-provider shape)')
    .option('--restart', 'restart nodes even when they run with this config')
    .option('-y, --yes', 'accepted for Ray compatibility (nothing is asked)')
    .action((config: string, o: { restart?: boolean }) => guarded(async () => {
      const l = launcher(config);
      try {
        await l.up({ restart: o.restart });
      } finally {
        await l.close();
      }
    }));
  program
    .command('down')
    .description('stop everything the launcher started on every host of the config')
    .argument('<config>')
    .option('-y, --yes', 'accepted for Ray compatibility (nothing is asked)')
    .action((config: string) => guarded(async () => void (await launcher(config).down())));
  program
    .command('exec')
    .description('run a shell command on the head (as a driver of the cluster: DHTS_ADDRESS and DHTS_TOKEN set)')
    .argument('<config>')
    .argument('<command>', 'shell command, quoted')
    .option('--node-ip <ip>', 'run on this node instead of the head')
    .option('--all-nodes', 'run on every node, output prefixed by node')
    .action((config: string, command: string, o: { nodeIp?: string; allNodes?: boolean }) => guarded(() => launcher(config).exec(command, o)));
  program
    .command('attach')
    .description('open an interactive shell on the head (or --node-ip)')
    .argument('<config>')
    .option('--node-ip <ip>')
    .action((config: string, o: { nodeIp?: string }) => guarded(() => launcher(config).attach(o)));
  program
    .command('rsync-up')
    .description('copy a local path to the head (or --node-ip, or --all-nodes)')
    .argument('<config>')
    .argument('<source>')
    .argument('<target>')
    .option('--node-ip <ip>')
    .option('-A, --all-nodes')
    .action((config: string, source: string, target: string, o: { nodeIp?: string; allNodes?: boolean }) =>
      guarded(() => launcher(config).rsyncUp(source, target, o)));
  program
    .command('rsync-down')
    .description('copy a path from the head (or --node-ip) to here')
    .argument('<config>')
    .argument('<source>')
    .argument('<target>')
    .option('--node-ip <ip>')
    .action((config: string, source: string, target: string, o: { nodeIp?: string }) => guarded(() => launcher(config).rsyncDown(source, target, o)));
  program
    .command('submit')
    .description('copy a script to the head and run it there with node, as a driver of the cluster')
    .argument('<config>')
    .argument('<script>')
    .argument('[args...]')
    .action((config: string, script: string, args: string[]) => guarded(() => launcher(config).submit(script, args)));
  program
    .command('cluster-status')
    .description("each host's SSH reachability and membership, and the head's cluster status")
    .argument('<config>')
    .action((config: string) => guarded(async () => {
      process.stdout.write(`${await launcher(config).status()}\n`);
    }));
  program
    .command('get-head-ip')
    .argument('<config>')
    .action((config: string) => guarded(async () => void process.stdout.write(`${loadClusterConfig(config).headIp}\n`)));
  program
    .command('get-worker-ips')
    .argument('<config>')
    .action((config: string) => guarded(async () => void process.stdout.write(loadClusterConfig(config).workerIps.map((ip) => `${ip}\n`).join(''))));
}
