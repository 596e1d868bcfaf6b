import t from 'tap';
import { closestWord, formatFinding, reportJson } from '../../../lib/heartbeat/check/index.ts';
import { readStatusAnswer, statgroupVerdict } from '../../../lib/heartbeat/status.ts';

t.test('a status answer read as ResourceManager reads it (text first), then the exit code', async (t) => {
  const cases: [string, number, string][] = [
    ['running (Primary)', 0, 'held'],
    ['mysqld is running', 0, 'held'],
    ['OK', 0, 'held'],
    ['Running', 3, 'held'], // ResourceManager trusts the text, not the code
    ['flag a is not running', 3, 'released'],
    ['NOT Running', 0, 'released'],
    ['stopped (Secondary)', 3, 'released'],
    ['stopped', 1, 'released'],
    ['maybe', 0, 'unknown'],
    ['', 4, 'unknown'],
    ['', -1, 'unknown'],
  ];
  for (const [text, code, state] of cases) t.equal(readStatusAnswer(text, code), state, `${JSON.stringify(text)} exit ${code}`);
});

t.test('statgroup: ALL, SOME, NONE; unknown counts as not held', async (t) => {
  t.equal(statgroupVerdict(['held', 'held']), 'ALL');
  t.equal(statgroupVerdict(['held', 'released']), 'SOME');
  t.equal(statgroupVerdict(['held', 'unknown']), 'SOME');
  t.equal(statgroupVerdict(['released', 'unknown']), 'NONE');
  t.equal(statgroupVerdict([]), 'NONE');
});

t.test('findings in text and JSON; did-you-mean', async (t) => {
  const f = { severity: 'error' as const, file: '/etc/ha.d/ha.cf', line: 8, code: 'HA102', message: 'unknown directive "wartime"', fix: 'did you mean "warntime"?' };
  t.equal(formatFinding(f), '/etc/ha.d/ha.cf:8: error: unknown directive "wartime" [HA102] — did you mean "warntime"?');
  t.equal(formatFinding({ ...f, line: 0 }), '/etc/ha.d/ha.cf: error: unknown directive "wartime" [HA102] — did you mean "warntime"?');
  t.same(JSON.parse(reportJson({ ok: false, findings: [f] })), {
    ok: false,
    findings: [{ severity: 'error', file: '/etc/ha.d/ha.cf', line: 8, code: 'HA102', message: 'unknown directive "wartime" — did you mean "warntime"?' }],
  });
  t.equal(closestWord('wartime', ['warntime', 'deadtime']), 'warntime');
  t.equal(closestWord('autofailback', ['auto_failback', 'node']), 'auto_failback');
  t.equal(closestWord('frobnicate', ['node', 'crm']), undefined);
});
