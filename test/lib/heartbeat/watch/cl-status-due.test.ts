import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CL_STATUS_MAX_AGE_MS, clStatusDue, LogFollower } from '../../../../lib/heartbeat/watch/sample.ts';

// When a sample asks `cl_status` again, and when heartbeat's quiet log lets
// it reuse the last answer.

t.test('clStatusDue', async (t) => {
  const now = 100_000;
  const memo = { at: now - 1000, pid: 42 };
  const rows: [string, Parameters<typeof clStatusDue>, boolean][] = [
    ['nothing known yet', [undefined, 42, 0, now, 1000], true],
    ['the first memo of a load (pid -1)', [{ at: 0, pid: -1 }, 42, 0, now, 1000], true],
    ['heartbeat is another process', [memo, 43, 0, now, 1000], true],
    ['heartbeat\'s log not followed', [memo, 42, undefined, now, 1000], true],
    ['the log quiet since long before the last answer', [memo, 42, now - 60_000, now, 1000], false],
    ['the log grew after the last answer', [memo, 42, now - 500, now, 1000], true],
    ['the log grew just before the last answer (asked twice after a change)', [memo, 42, now - 2500, now, 1000], true],
    ['the log grew three intervals before the last answer', [memo, 42, now - 4500, now, 1000], false],
    ['the answer is too old', [{ at: now - CL_STATUS_MAX_AGE_MS, pid: 42 }, 42, 0, now, 1000], true],
  ];
  for (const [what, args, due] of rows) t.equal(clStatusDue(...args), due, what);
});

t.test('LogFollower.grewAt: set when heartbeat appends a line, not when nothing changed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `cl-due-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'ha-log');
  writeFileSync(log, 'heartbeat[1]: 2026/12/07_06:00:00 info: Link master2:eth1 up.\n');
  const f = new LogFollower(log, 'master2');
  t.equal(f.grewAt, 0);
  f.poll();
  const first = f.grewAt;
  t.ok(first > 0, 'the first read counts');
  await new Promise((r) => setTimeout(r, 20));
  f.poll();
  t.equal(f.grewAt, first, 'nothing appended: unchanged');
  appendFileSync(log, 'heartbeat[1]: 2026/12/07_06:00:05 WARN: Link master2:eth1 dead.\n');
  f.poll();
  t.ok(f.grewAt > first, 'a new line');
  appendFileSync(log, 'half a line');
  const before = f.grewAt;
  await new Promise((r) => setTimeout(r, 20));
  f.poll();
  t.equal(f.grewAt, before, 'an incomplete line is not read yet');
});
