import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAlive } from '../../../lib/system/terminate.ts';
import {
  announcerStatePath, isOurAnnouncer, parseAnnouncerRecord, sendArpArgv, sendUaArgv, startAnnouncer, stopAnnouncer,
} from '../../../lib/ip/announce.ts';

// No packets here: the announcer's bookkeeping is exercised with `sleep`
// standing in for send_arp. The real announcers run in test/agents/ipaddr*.

t.test('argv of the stock helpers', async (t) => {
  const env = { HA_RSCTMP: '/run/x', HA_BIN: '/opt/hb' };
  t.same(sendArpArgv(env, 'eth1', '198.18.0.10', 5, 200), ['/opt/hb/send_arp', '-i', '200', '-r', '5', '-p', '/run/x/ha-resource-agents/send_arp-198.18.0.10', 'eth1', '198.18.0.10', 'auto', 'not_used', 'not_used']);
  t.same(sendUaArgv(env, 'eth1', 'fd00::10', 64, 3, 100), ['/opt/hb/send_ua', '-i', '100', '-c', '3', 'fd00::10', '64', 'eth1']);
  t.equal(sendArpArgv({}, 'eth1', '198.18.0.10', 1, 1)[0], '/usr/libexec/heartbeat/send_arp');
});

t.test('state records', async (t) => {
  t.same(parseAnnouncerRecord('{"pid":123,"argv":["a","b"]}'), { pid: 123, argv: ['a', 'b'] });
  t.equal(parseAnnouncerRecord('{"pid":1,"argv":[]}'), undefined, 'never pid 1');
  t.equal(parseAnnouncerRecord('{"pid":12'), undefined, 'torn file');
  t.equal(parseAnnouncerRecord('4242\n'), undefined, 'a bare pid file is not ours');
});

t.test('start records the process; stop ends it only when the cmdline still matches', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/ipaddr-announce-`);
  const env = { HA_RSCTMP: dir };
  const stray: number[] = [];
  t.teardown(() => {
    for (const pid of stray) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const record = await startAnnouncer(env, '198.18.0.10', ['/bin/sleep', '30']);
  stray.push(record.pid);
  t.ok(isAlive(record.pid));
  t.ok(existsSync(announcerStatePath(env, '198.18.0.10')));
  t.ok(isOurAnnouncer(record));
  t.equal(await stopAnnouncer(env, '198.18.0.10'), 'stopped');
  t.notOk(isAlive(record.pid), 'ended');
  t.notOk(existsSync(announcerStatePath(env, '198.18.0.10')), 'record removed');
  t.equal(await stopAnnouncer(env, '198.18.0.10'), 'none');

  // A recorded PID now used by something else: left alone.
  const other = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  stray.push(other.pid!);
  writeFileSync(announcerStatePath(env, '198.18.0.11'), JSON.stringify({ pid: other.pid, argv: ['/usr/libexec/heartbeat/send_arp', '-i', '200'] }));
  t.equal(await stopAnnouncer(env, '198.18.0.11'), 'not-ours');
  t.ok(isAlive(other.pid!), 'the foreign process lives on');

  // The announcer finished by itself.
  const done = await startAnnouncer(env, '198.18.0.12', ['/bin/true']);
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(isOurAnnouncer(done));
  t.equal(await stopAnnouncer(env, '198.18.0.12'), 'finished');

  // A start killed between recording the argv and recording the PID: stop finds the announcer by its exact argv.
  const orphan = spawn('/bin/sleep', ['31.5'], { stdio: 'ignore' });
  stray.push(orphan.pid!);
  const bystander = spawn('/bin/sleep', ['31.6'], { stdio: 'ignore' });
  stray.push(bystander.pid!);
  await new Promise((r) => setTimeout(r, 100));
  writeFileSync(announcerStatePath(env, '198.18.0.13'), JSON.stringify({ pid: 0, argv: ['/bin/sleep', '31.5'] }));
  t.equal(await stopAnnouncer(env, '198.18.0.13'), 'stopped', 'issue 15: the orphan of a killed start');
  t.notOk(isAlive(orphan.pid!), 'ended');
  t.ok(isAlive(bystander.pid!), 'a process with other arguments lives on');
});
