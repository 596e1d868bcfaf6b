import t from 'tap';
import { cpSync, mkdtempSync, readlinkSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR } from '../rig/agents.ts';

const AGENTS = ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld'];

t.test('dist/resource.d holds the executable and the four agent links', async (t) => {
  t.same(readdirSync(AGENTS_DIR).sort(), [...AGENTS, 'ha-agent'].sort());
  for (const agent of AGENTS) t.equal(readlinkSync(join(AGENTS_DIR, agent)), 'ha-agent', `${agent} -> ha-agent`);
});

t.test('a copy runs with an empty environment: no PATH, no Node.js, no node_modules', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'standalone-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(AGENTS_DIR, dir, { recursive: true, verbatimSymlinks: true });
  for (const agent of AGENTS) {
    const result = await execa('env', ['-i', `./${agent}`, '--help'], { cwd: dir, reject: false });
    t.equal(result.exitCode, 0, `${agent} --help exits 0`);
    t.match(result.stdout, new RegExp(`^${agent} - `), `${agent} --help describes ${agent}`);
    t.match(result.stdout, new RegExp(`${agent} .*\\{start\\|stop\\|status\\}`), 'shows the v1 usage');
  }
  const byFlag = await execa('env', ['-i', './ha-agent', '--agent', 'drbddisk', '--help'], { cwd: dir, reject: false });
  t.equal(byFlag.exitCode, 0);
  t.match(byFlag.stdout, /^drbddisk - /, '--agent NAME picks the agent');
  const unknown = await execa('env', ['-i', './ha-agent', '--agent', 'nosuch', 'status'], { cwd: dir, reject: false });
  t.equal(unknown.exitCode, 2);
  t.match(unknown.stderr, /--agent "nosuch" is none of IPaddr, drbddisk, Filesystem, mysqld/);
  const help = await execa('env', ['-i', './ha-agent', '--help'], { cwd: dir, reject: false });
  t.equal(help.exitCode, 0, 'by its own name it is the operator CLI');
  t.match(help.stdout, /^Usage: ha-agent /);
});
