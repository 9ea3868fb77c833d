import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createNetwork, netnsUnavailableReason } from '../helpers/netns.js';
import { startSshd, sshdUnavailableReason } from '../helpers/sshd.js';

const run = promisify(execFile);

t.test('netns hosts with a real sshd each: reachable from the root namespace and from each other, removed after', async (t) => {
  const reason = (await netnsUnavailableReason()) ?? sshdUnavailableReason();
  if (reason) {
    t.comment(`skipping: ${reason}`);
    t.pass(`skipped: ${reason}`);
    return;
  }
  const net = await createNetwork({ hosts: 2 });
  const ssh = await startSshd(net);
  t.teardown(async () => {
    await ssh.stop();
    await net.remove();
  });
  const [h0, h1] = net.hosts as [typeof net.hosts[0], typeof net.hosts[0]];
  const sshArgs = (ip: string) => [
    '-i', ssh.privateKeyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', `${ssh.user}@${ip}`,
  ];
  // From the root namespace to h0: the remote shell really lives in h0's network.
  const { stdout } = await run('ssh', [...sshArgs(h0.ip), 'ip -4 -o addr show eth0']);
  t.match(stdout, h0.ip);
  // From inside h0 to h1 over the bridge.
  const viaH0 = await net.run(h0, 'ssh', [...sshArgs(h1.ip), 'echo hello-from-$(ip -4 -o addr show eth0 | cut -d" " -f7)']);
  t.match(viaH0, `hello-from-${h1.ip}/24`);
  t.ok((await net.pids(h1)).includes(ssh.servers[1]!.pid), 'sshd runs inside h1');

  await ssh.stop();
  await net.remove();
  const { stdout: left } = await run('ip', ['netns', 'list']);
  t.notMatch(left, h0.netns, 'namespaces removed');
  await net.remove(); // idempotent
});
