import t from 'tap';
import { classifyDrbdadmFailure } from '../../../lib/drbd/failures.ts';

// stderr of failing drbdadm calls. "real" ones were captured from drbd-utils 9.22 here
// (no kernel module); the others are drbdsetup's print_config_error formats with
// drbd_strings.c texts, as the double prints them.

t.test('classifies drbdadm failures', async (t) => {
  const cases: [string, string, object][] = [
    ['8.4 two primaries', "1: State change failed: (-1) Multiple primaries not allowed by config\nCommand '/lib/drbd/drbdsetup-84 primary 1' terminated with exit code 11\n",
      { kind: 'state-change', code: -1, text: '1: State change failed: (-1) Multiple primaries not allowed by config' }],
    ['9 held open', "data: State change failed: (-12) Device is held open by someone\nadditional info from kernel:\n/dev/drbd1 open_ro_cnt:0, open_rw_cnt:1; list of openers follows\nCommand 'drbdsetup secondary data' terminated with exit code 11\n",
      { kind: 'state-change', code: -12 }],
    ['8.3 no UpToDate data', "1: State change failed: (-2) Need access to UpToDate data\nCommand '/lib/drbd/drbdsetup-83 1 primary' terminated with exit code 17\ndrbdadm-83 primary data: exited with code 17\n",
      { kind: 'state-change', code: -2 }],
    ['real: not defined (8.4/9)', "'nosuch' not defined in your config (for this host).\n", { kind: 'not-defined' }],
    ['real: not defined (8.3)', "'nosuch' not defined in your config.\n", { kind: 'not-defined' }],
    ['8.4 down', "1: Failure: (127) Device minor not allocated\nadditional info from kernel:\nunknown minor\nCommand '/lib/drbd/drbdsetup-84 role 1' terminated with exit code 10\n", { kind: 'not-up' }],
    ['9 down', "data: Unknown resource\nCommand 'drbdsetup role data' terminated with exit code 10\n", { kind: 'not-up' }],
    ['real: 8.4 without module', "sh: 1: /sbin/modprobe: not found\nCould not stat /proc/drbd: No such file or directory\nMake sure that the DRBD kernel module is installed and can be loaded!\nCommand '/lib/drbd/drbdsetup-84 role 1' terminated with exit code 20\n",
      { kind: 'other', text: 'Could not stat /proc/drbd: No such file or directory' }],
    ['real: 9 config parse error', "sh: 1: modinfo: not found\ntut.conf:22: Parse error: 'an option keyword' expected,\n\tbut got 'unplug-watermark'\n",
      { kind: 'other', text: "tut.conf:22: Parse error: 'an option keyword' expected," }],
    ['real: 9 config parse error, modinfo present', "modinfo: ERROR: Module drbd not found.\ntutorial-drbd.conf:25: Parse error: 'an option keyword' expected,\n\tbut got 'unplug-watermark'\n",
      { kind: 'other', text: "tutorial-drbd.conf:25: Parse error: 'an option keyword' expected," }],
    ['real: 8.4 without module, modprobe present', "modprobe: FATAL: Module drbd not found in directory /lib/modules/6.18.44-fc-v782\nCould not stat /proc/drbd: No such file or directory\n",
      { kind: 'other', text: 'modprobe: FATAL: Module drbd not found in directory /lib/modules/6.18.44-fc-v782' }],
  ];
  for (const [name, stderr, expected] of cases) t.match(classifyDrbdadmFailure(stderr), expected, name);
});
