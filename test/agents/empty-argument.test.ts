import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAgent } from '../rig/agents.ts';
import { DrbdDouble } from '../rig/drbd-double.ts';

// Issue 15: a stray "::" in haresources (`drbddisk::`) gives an empty
// argument. `drbddisk '' start` promoted every DRBD resource (the empty name
// fell back to the default, all). A present but empty v1 argument is an
// error for every agent: one line, exit 6, nothing run.

const rsctmp = mkdtempSync(join(tmpdir(), `empty-arg-${process.pid}-`));
t.teardown(() => rmSync(rsctmp, { recursive: true, force: true }));

t.test('drbddisk \'\' start: refused, drbdadm never called, nothing promoted', async (t) => {
  const drbd = DrbdDouble.create('8.4', `empty-arg-drbd-${process.pid}-`).defineResource('data').defineResource('logs', { minor: 2 });
  t.teardown(() => drbd.cleanup());
  for (const res of ['data', 'logs']) drbd.setRole(res, 'master1', 'Secondary').setRole(res, 'master2', 'Secondary');
  for (const action of ['start', 'stop', 'status']) {
    const r = await runAgent('drbddisk', ['', action], { env: { ...drbd.env('master1'), HA_RSCTMP: rsctmp } });
    t.equal(r.exitCode, 6, `${action}: exit 6`);
    t.equal(r.stderr, 'drbddisk: argument 1 (drbd_resource) is empty (a stray "::" in haresources?); nothing done', `${action}: one line`);
  }
  t.same(drbd.calls(), [], 'drbdadm was never called');
  t.equal(drbd.role('data', 'master1'), 'Secondary');
  t.equal(drbd.role('logs', 'master1'), 'Secondary');
});

t.test('every agent refuses an empty positional argument the same way', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['IPaddr', ['', 'status'], /^IPaddr: argument 1 \(ip\) is empty/],
    ['Filesystem', ['/dev/loop0', '', 'ext4', 'status'], /^Filesystem: argument 2 \(directory\) is empty/],
    ['Filesystem', ['/dev/loop0', '/data', '', 'status'], /^Filesystem: argument 3 \(fstype\) is empty/],
    ['mysqld', ['', 'status'], /^mysqld: argument 1 \(config\) is empty/],
  ];
  for (const [agent, args, message] of cases) {
    const r = await runAgent(agent, args, { env: { HA_RSCTMP: rsctmp } });
    t.equal(r.exitCode, 6, `${agent} ${JSON.stringify(args)}: exit 6`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});
