import t from 'tap';
import { execFileSync } from 'node:child_process';
import { resourceManagerReadsAsHeld, statusLine } from '../../../lib/contract/status-text.ts';

// The case statement from heartbeat's ResourceManager (we_own_resource), run by a real shell.
const RM_CASE = `case "$1" in *[Nn][Oo][Tt]\\ *[Rr]unning*) echo 0;; *[Rr]unning*|*OK*) echo 1;; *) echo 0;; esac`;
const shellReadsAsHeld = (text: string) => execFileSync('sh', ['-c', RM_CASE, 'sh', text], { encoding: 'utf8' }).trim() === '1';

const texts = [
  'running', 'stopped', 'running (Primary)', 'stopped (Secondary)', 'cannot determine status, may be running',
  'IPaddr is not running', 'OK', 'stopped (LOCKED)', 'stopped (TOKEN)', 'not  running', 'Not Running', 'RUNNING', '', 'stopped (role unknown)',
];

t.test('our matcher agrees with ResourceManager\'s shell case', async (t) => {
  for (const text of texts) t.equal(resourceManagerReadsAsHeld(text), shellReadsAsHeld(text), JSON.stringify(text));
});

t.test('the stock drbddisk bug: "may be running" reads as not held', async (t) => {
  t.equal(shellReadsAsHeld('cannot determine status, may be running'), false);
});

t.test('status lines classify as meant, whatever the detail says', async (t) => {
  const cases: Array<[boolean, string | undefined, string]> = [
    [true, undefined, 'running'],
    [false, undefined, 'stopped'],
    [true, 'Primary', 'running (Primary)'],
    [false, 'Secondary', 'stopped (Secondary)'],
    [false, 'TOKEN expired', 'stopped'], // "OK" inside would read as held
    [false, 'LOCKED', 'stopped (LOCKED)'], // L-O-C-K holds no "OK"
    [false, 'mysqld running elsewhere', 'stopped'],
    [true, 'role unknown: drbdadm not running', 'running'], // "not running" would read as released
    [true, 'on eth1:0\n(198.18.4.1)', 'running (on eth1:0 198.18.4.1)'],
  ];
  for (const [held, detail, expected] of cases) {
    const line = statusLine(held, detail);
    t.equal(line, expected, `${held} ${JSON.stringify(detail)}`);
    t.equal(shellReadsAsHeld(line), held, `ResourceManager reads ${JSON.stringify(line)} as ${held ? 'held' : 'not held'}`);
  }
});
