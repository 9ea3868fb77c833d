import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remoteShellPath, shellQuote, SshHost } from '../../daemon/launcher/ssh.js';
import { SshUnreachableError } from '../../daemon/launcher/errors.js';
import { sshdUnavailableReason } from '../helpers/sshd.js';

t.test('quoting for the remote shell', async (t) => {
  t.equal(shellQuote('plain/path-1.2'), 'plain/path-1.2');
  t.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  t.equal(shellQuote(''), "''");
  t.equal(remoteShellPath('~/a b/c'), "~/'a b/c'", 'a leading ~/ stays expandable');
  t.equal(remoteShellPath('~'), '~');
  t.equal(remoteShellPath('/tmp/x y'), "'/tmp/x y'");
});

t.test('a refused connection is retried with backoff, then reported as unreachable', async (t) => {
  const reason = sshdUnavailableReason();
  if (reason) {
    t.pass(`skipped: ${reason}`);
    return;
  }
  const state = mkdtempSync(join(tmpdir(), 'dhts-ssh-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const host = new SshHost(
    { label: 'worker 127.0.0.1', host: '127.0.0.1', user: 'nobody', port: 1 },
    { connectTimeoutS: 2, retries: 2, stateDir: state, clusterName: 'refused', backoffMs: 100 },
  );
  const start = Date.now();
  const error = await host.run('true').then(() => undefined, (e: unknown) => e);
  t.ok(error instanceof SshUnreachableError);
  t.equal((error as SshUnreachableError).code, 'SSH_UNREACHABLE');
  t.match((error as Error).message, /cannot reach worker 127\.0\.0\.1 over ssh: .*(refused|Connection).*\(after 3 attempt\(s\)\)/);
  t.ok(Date.now() - start >= 300, 'waited 100 + 200 ms between the attempts');
});
