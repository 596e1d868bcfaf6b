import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../rig/agents.ts';
import { VERSION, buildPackages } from './packages.ts';

// lintian's verdict on the .deb: no error, no warning; what is left is
// overridden in packaging/debian/lintian-overrides, each with its reason.

const work = mkdtempSync(join(tmpdir(), `lintian-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('lintian: no error, no warning, every override with its reason', async (t) => {
  await buildPackages(work, VERSION);
  const deb = join(work, `ha-resource-agents_${VERSION}_amd64.deb`);
  const result = await execa('lintian', ['--fail-on', 'error,warning', '--tag-display-limit', '0', '--display-info', deb], { reject: false, timeout: 300_000 });
  const tags = result.stdout.split('\n').filter((line) => /^[EW]: /.test(line));
  t.same(tags, [], 'no error or warning');
  t.equal(result.exitCode, 0, result.stderr);
  t.notMatch(result.stdout, /unused-override|mismatched-override/, 'every override is still needed and matches');
  const file = readFileSync(join(ROOT, 'packaging/debian/lintian-overrides'), 'utf8').split('\n');
  const overrides = file.filter((line) => line.startsWith('ha-resource-agents: '));
  t.ok(overrides.length > 0, 'there are overrides to check');
  for (const line of overrides) {
    const index = file.indexOf(line);
    const reason = [];
    for (let i = index - 1; i >= 0 && file[i]!.startsWith('#'); i--) reason.push(file[i]);
    const previous = file[index - 1] ?? '';
    t.ok(reason.length > 0 || previous.startsWith('ha-resource-agents: '), `${line}: a reason above it (or shares the one above)`);
  }
});
