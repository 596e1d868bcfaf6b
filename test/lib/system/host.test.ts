import t from 'tap';
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { hostName } from '../../../lib/system/host.ts';

t.test('hostName answers what uname -n and os.hostname() answer', async (t) => {
  t.equal(hostName(), execFileSync('uname', ['-n'], { encoding: 'utf8' }).trim());
  t.equal(hostName(), hostname());
});

t.test('inside another UTS namespace it is that namespace\'s name', async (t) => {
  // Bun runs the TypeScript module as it is, the way the shipped binary does.
  const bun = new URL('../../../node_modules/.bin/bun', import.meta.url).pathname;
  const script = `import { hostName } from '${new URL('../../../lib/system/host.ts', import.meta.url).pathname}'; process.stdout.write(hostName());`;
  const name = 'hara-uts-test';
  const out = execFileSync('unshare', ['--uts', 'sh', '-c', `hostname ${name} && exec "$0" -e "$1"`, bun, script], { encoding: 'utf8' });
  t.equal(out, name);
});
