import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseAuthKeys } from '../../../lib/heartbeat/authkeys.ts';
import { declaredNodes, HA_CF_DIRECTIVES, lastValue, parseDurationMs, parseHaCf } from '../../../lib/heartbeat/hacf.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/heartbeat/${name}`, import.meta.url), 'utf8');

t.test('the tutorial ha.cf: directives, values and line numbers', async (t) => {
  const entries = parseHaCf(fixture('tutorial-ha.cf'));
  t.same(entries.map((e) => [e.line, e.directive, e.values]), [
    [2, 'debugfile', ['/var/log/ha-debug']],
    [3, 'logfile', ['/var/log/ha-log']],
    [4, 'logfacility', ['local1']],
    [6, 'keepalive', ['2']],
    [7, 'deadtime', ['30']],
    [8, 'warntime', ['10']],
    [9, 'initdead', ['120']],
    [11, 'mcast', ['eth2', '225.0.0.7', '694', '1', '0']],
    [13, 'auto_failback', ['on']],
    [14, 'node', ['master1']],
    [15, 'node', ['master2']],
    [16, 'crm', ['no']],
  ]);
  t.ok(entries.every((e) => HA_CF_DIRECTIVES.has(e.directive)), 'every directive is one heartbeat knows');
  t.same(declaredNodes(entries), [{ name: 'master1', line: 14 }, { name: 'master2', line: 15 }]);
  t.same(lastValue(entries, 'deadtime'), { value: '30', line: 7 });
});

t.test('comments anywhere, several nodes on a line, upper case, the last value wins', async (t) => {
  const entries = parseHaCf('  Node Alpha beta # two\n\tkeepalive 1 # first\nkeepalive 500ms\n#node gamma\n');
  t.same(declaredNodes(entries), [{ name: 'alpha', line: 1 }, { name: 'beta', line: 1 }]);
  t.equal(entries[0]!.directiveAsWritten, 'Node');
  t.same(lastValue(entries, 'keepalive'), { value: '500ms', line: 3 });
  t.equal(lastValue(entries, 'warntime'), undefined);
});

t.test('times as heartbeat reads them (seconds unless a unit says otherwise)', async (t) => {
  const cases: [string, number | undefined][] = [
    ['2', 2000], ['1.5', 1500], ['500ms', 500], ['500msec', 500], ['3s', 3000], ['3sec', 3000], ['250000us', 250], ['.5', 500],
    ['', undefined], ['2 s', undefined], ['fast', undefined], ['-1', undefined], ['10m', undefined],
  ];
  for (const [text, ms] of cases) t.equal(parseDurationMs(text), ms, JSON.stringify(text));
});

t.test('authkeys: the tutorial file, then what heartbeat refuses', async (t) => {
  t.same(parseAuthKeys(fixture('tutorial-authkeys')), {
    auth: { index: 1, raw: '1', line: 1 },
    keys: [{ index: 1, method: 'sha1', secret: '47e9336850f1db6fa58bc470bc9b7810eb397f04', line: 2 }],
    invalid: [],
  });
  const odd = parseAuthKeys('# keys\nauth 3\n1 crc\n2 MD5 secret with spaces\nsha1 nothing\n');
  t.same(odd.auth, { index: 3, raw: '3', line: 2 });
  t.same(odd.keys.map((k) => [k.index, k.method, k.secret, k.line]), [[1, 'crc', '', 3], [2, 'md5', 'secret with spaces', 4]]);
  t.same(odd.invalid, [{ line: 5, text: 'sha1 nothing' }]);
  t.same(parseAuthKeys('auth x\n').auth, { index: undefined, raw: 'x', line: 1 });
});
