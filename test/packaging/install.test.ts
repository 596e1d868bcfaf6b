import t from 'tap';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR, ROOT } from '../rig/agents.ts';

t.test('install.sh lays out heartbeat and OCF paths, keeping a stock agent aside', async (t) => {
  const dest = mkdtempSync(join(tmpdir(), 'install-'));
  t.teardown(() => rmSync(dest, { recursive: true, force: true }));
  mkdirSync(join(dest, 'etc/ha.d/resource.d'), { recursive: true });
  writeFileSync(join(dest, 'etc/ha.d/resource.d/IPaddr'), '#!/bin/sh\n# stock\n');
  const result = await execa('bash', [join(ROOT, 'packaging/install.sh')], { env: { DESTDIR: dest, SRC: AGENTS_DIR }, reject: false });
  t.equal(result.exitCode, 0, result.stderr);
  t.match(result.stdout, /kept the stock \/etc\/ha.d\/resource.d\/IPaddr as IPaddr.stock/);
  t.equal(readFileSync(join(dest, 'etc/ha.d/resource.d/IPaddr.stock'), 'utf8'), '#!/bin/sh\n# stock\n');
  t.equal(readlinkSync(join(dest, 'usr/sbin/ha-agent')), '../lib/ha-resource-agents/ha-agent', 'ha-agent on the PATH, as the .deb has it');
  for (const agent of ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld']) {
    for (const dir of ['etc/ha.d/resource.d', 'usr/lib/ocf/resource.d/hara']) {
      t.equal(readlinkSync(join(dest, dir, agent)), '/usr/lib/ha-resource-agents/ha-agent', `${dir}/${agent}`);
    }
    // The links are absolute for the target system; run through the staged copy by name.
    const run = await execa(join(dest, 'usr/lib/ha-resource-agents/ha-agent'), ['--agent', agent, 'meta-data'], { reject: false });
    t.equal(run.exitCode, 0);
    t.match(run.stdout, new RegExp(`<resource-agent name="${agent}"`));
  }
});
