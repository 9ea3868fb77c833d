import t from 'tap';
import { readFileSync } from 'node:fs';

t.test('package.json names the dhts bin and the subpath exports', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    bin: Record<string, string>;
    exports: Record<string, string>;
  };
  t.equal(pkg.bin.dhts, 'dist/daemon/cli/main.js');
  t.ok(pkg.exports['./hpo']);
  t.ok(pkg.exports['./protocol']);
});
