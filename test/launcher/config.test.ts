import t from 'tap';
import { parseClusterConfig, translateRayCommand, loadClusterConfig, DEFAULT_HEAD_START } from '../../daemon/launcher/config.js';
import { ClusterConfigError } from '../../daemon/launcher/errors.js';
import { readdirSync } from 'node:fs';

const RAY_FILE = `# Ray's local-provider example, unchanged
cluster_name: lab
provider:
    type: local
    head_ip: 10.0.0.1
    worker_ips: [10.0.0.2, 10.0.0.3]
auth:
    ssh_user: alice
    ssh_private_key: ~/.ssh/id_rsa
min_workers: 2
max_workers: 2
upscaling_speed: 1.0
idle_timeout_minutes: 5
docker: {}
file_mounts: {"/remote/data": "./data"}
cluster_synced_files: []
file_mounts_sync_continuously: False
rsync_exclude: ["**/.git", "**/.git/**"]
rsync_filter: [".gitignore"]
initialization_commands: []
setup_commands: []
head_setup_commands: []
worker_setup_commands: []
head_start_ray_commands:
    - ray stop
    - ulimit -c unlimited && ray start --head --port=6379 --autoscaling-config=~/ray_bootstrap_config.yaml
worker_start_ray_commands:
    - ray stop
    - ray start --address=$RAY_HEAD_IP:6379
`;

t.test("a Ray local-provider file is read unchanged, with ray mapped to dhts", async (t) => {
  const c = parseClusterConfig(RAY_FILE, '/etc/lab.yaml');
  t.equal(c.clusterName, 'lab');
  t.equal(c.headIp, '10.0.0.1');
  t.same(c.workerIps, ['10.0.0.2', '10.0.0.3']);
  t.equal(c.auth.sshUser, 'alice');
  t.match(c.auth.sshPrivateKey, /\/\.ssh\/id_rsa$/);
  t.same(c.fileMounts, { '/remote/data': '/etc/data' }, 'local mount paths are relative to the config file');
  t.same(c.headStartCommands, ['dhts stop', 'ulimit -c unlimited && dhts start --head --port=6379']);
  t.same(c.workerStartCommands, ['dhts stop', 'dhts start --address=$RAY_HEAD_IP:6379']);
  t.equal(c.port, 6379);
  t.ok(c.warnings.some((w) => w.includes('--autoscaling-config')), 'the dropped Ray flag is reported');
  t.ok(c.warnings.some((w) => w.startsWith('max_workers')));
});

t.test('defaults of our own fields', async (t) => {
  const c = parseClusterConfig('provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\n', 'x.yaml');
  t.equal(c.clusterName, 'default');
  t.same(c.workerIps, []);
  t.same(c.headStartCommands, DEFAULT_HEAD_START);
  t.same(c.token, { kind: 'auto' });
  t.equal(c.jobsPort, 8265);
  t.equal(c.bind, '0.0.0.0');
  t.equal(c.tempDir, '/tmp/dhts');
  t.same(c.ssh, { connectTimeoutS: 10, retries: 3, waitForSshS: 60 });
});

t.test('translateRayCommand keeps quoting and other commands intact', async (t) => {
  t.same(translateRayCommand('ray start --head --port 6379 --dashboard-host 0.0.0.0 --num-cpus=4; echo "ray start"'), {
    command: 'dhts start --head --port 6379 --num-cpus=4; echo "ray start"',
    dropped: ['--dashboard-host 0.0.0.0'],
  });
  t.same(translateRayCommand('ray start --address=$RAY_HEAD_IP:6379 --block --disable-usage-stats && ray status').command,
    'dhts start --address=$RAY_HEAD_IP:6379 && dhts status');
  t.equal(translateRayCommand('conda activate ray').command, 'conda activate ray');
});

const bad: Array<[string, string, RegExp]> = [
  ['unknown field with a suggestion', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\nsetup_comands: []\n', /x\.yaml:3:1: field "setup_comands": unknown field \(did you mean "setup_commands"\?\)/],
  ['missing ssh_user', 'provider: {type: local, head_ip: h}\nauth: {}\n', /x\.yaml:2:\d+: field "auth\.ssh_user": is required/],
  ['missing provider', 'auth: {ssh_user: u}\n', /field "provider\.type": is required/],
  ['a cloud provider', 'provider:\n  type: aws\n  head_ip: h\nauth: {ssh_user: u}\n', /x\.yaml:2:9: field "provider\.type": only "local"/],
  ['a host listed twice', 'provider:\n  type: local\n  head_ip: a\n  worker_ips:\n    - b\n    - a\nauth: {ssh_user: u}\n', /x\.yaml:6:7: field "provider\.worker_ips\[1\]": host "a" is listed twice/],
  ['docker', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\ndocker: {image: x}\n', /field "docker": docker containers are not supported/],
  ['a token written in the file', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\ntoken: s3cret\n', /x\.yaml:3:8: field "token"/],
  ['a port out of range', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\nport: 70000\n', /x\.yaml:3:7: field "port": must be between 1 and 65535/],
  ['a command that is not a string', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\nsetup_commands:\n  - {a: 1}\n', /x\.yaml:4:5: field "setup_commands\[0\]": expected a string/],
  ['both start-command spellings', 'provider: {type: local, head_ip: h}\nauth: {ssh_user: u}\nhead_start_commands: []\nhead_start_ray_commands: []\n', /both/],
  ['YAML syntax', 'provider: {type: local\n', /x\.yaml:\d+:\d+: YAML syntax/],
  ['a bad host name', 'provider: {type: local, head_ip: "-oProxyCommand=x"}\nauth: {ssh_user: u}\n', /not a host name/],
];
for (const [name, text, message] of bad) {
  t.test(`bad config: ${name}`, async (t) => {
    let error: unknown;
    try {
      parseClusterConfig(text, 'x.yaml');
    } catch (e) {
      error = e;
    }
    t.ok(error instanceof ClusterConfigError, 'a ClusterConfigError');
    t.equal((error as ClusterConfigError).code, 'CLUSTER_CONFIG');
    t.match((error as Error).message, message);
  });
}

t.test('the shipped example configs all load', async (t) => {
  const dir = new URL('../../../cluster-configs/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  t.ok(files.length >= 3);
  for (const f of files) t.doesNotThrow(() => loadClusterConfig(new URL(f, dir).pathname), f);
});
