import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefaultsFile, resolveDrbdTools } from '../../../lib/drbd/config.ts';

t.test('/etc/default/drbd: plain assignments, quotes, export, comments; shell syntax refused', async (t) => {
  const { values, problems } = parseDefaultsFile([
    '# Debian\'s /etc/default/drbd style',
    'ADJUST_AFTER_UP=yes',
    'DRBDADM="/usr/local/sbin/drbdadm -c /etc/drbd-ha.conf"',
    "export DRBDSETUP='/usr/local/sbin/drbdsetup'",
    'KILL_PREFIX=  # empty',
    'EVIL=$(reboot)',
  ].join('\n'));
  t.equal(values.get('DRBDADM'), '/usr/local/sbin/drbdadm -c /etc/drbd-ha.conf');
  t.equal(values.get('DRBDSETUP'), '/usr/local/sbin/drbdsetup');
  t.equal(values.get('ADJUST_AFTER_UP'), 'yes');
  t.equal(values.get('EVIL'), undefined);
  t.match(problems, [/line 6: EVIL uses shell syntax/]);
});

t.test('DRBDADM: environment, then the defaults file, then /sbin/drbdadm; drbdsetup next to it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `drbd-config-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const defaults = join(dir, 'drbd');
  writeFileSync(join(dir, 'drbdsetup'), '');
  writeFileSync(defaults, `DRBDADM="${dir}/drbdadm -c /etc/ha.conf"\n`);
  t.match(resolveDrbdTools({ DRBD_DEFAULTS_FILE: defaults }), { drbdadm: { command: `${dir}/drbdadm`, args: ['-c', '/etc/ha.conf'] }, drbdsetup: `${dir}/drbdsetup`, drbdadmSource: `DRBDADM in ${defaults}`, procDrbd: '/proc/drbd' });
  t.match(resolveDrbdTools({ DRBD_DEFAULTS_FILE: defaults, DRBDADM: '/opt/drbdadm', DRBD_PROC_FILE: '/tmp/p' }), { drbdadm: { command: '/opt/drbdadm', args: [] }, drbdsetup: 'drbdsetup', procDrbd: '/tmp/p' });
  t.match(resolveDrbdTools({ DRBD_DEFAULTS_FILE: join(dir, 'missing') }), { drbdadm: { command: '/sbin/drbdadm', args: [] }, drbdadmSource: 'the default' });
  writeFileSync(defaults, 'DRBDADM=`which drbdadm`\n');
  t.match(resolveDrbdTools({ DRBD_DEFAULTS_FILE: defaults }), { message: /line 1: DRBDADM uses shell syntax/ });
  t.match(resolveDrbdTools({ DRBDADM: '/sbin/drbdadm; reboot' }), { message: /DRBDADM in the environment uses shell syntax/ });
});
