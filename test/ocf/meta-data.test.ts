import t from 'tap';
import { execa } from 'execa';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENTS_DIR } from '../rig/agents.ts';

const DTD = '/usr/share/resource-agents/ra-api-1.dtd';
const AGENTS = ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld'];

// The checkout may sit under a directory nobody cannot enter (/root): give nobody its own copy.
const copy = mkdtempSync(join(tmpdir(), 'meta-data-'));
chmodSync(copy, 0o755);
cpSync(AGENTS_DIR, copy, { recursive: true, verbatimSymlinks: true });
t.teardown(() => rmSync(copy, { recursive: true, force: true }));
const agentPath = (agent: string) => join(copy, agent);

for (const agent of AGENTS) {
  t.test(`${agent} meta-data is valid ra-api-1.dtd XML, also as user nobody`, async (t) => {
    // runuser drops to nobody with an empty environment and no tools in reach but the agent.
    const result = await execa('runuser', ['-u', 'nobody', '--', 'env', '-i', agentPath(agent), 'meta-data'], { reject: false });
    t.equal(result.exitCode, 0, `exit 0, stderr: ${result.stderr}`);
    t.equal(result.stderr, '');
    const lint = await execa('xmllint', ['--noout', '--dtdvalid', DTD, '-'], { input: result.stdout, reject: false });
    t.equal(lint.exitCode, 0, `xmllint: ${lint.stderr}`);
    t.match(result.stdout, new RegExp(`<resource-agent name="${agent}"`));
    for (const action of ['start', 'stop', 'monitor', 'meta-data', 'validate-all']) {
      t.match(result.stdout, new RegExp(`<action name="${action}"`), `advertises ${action}`);
    }
  });
}
