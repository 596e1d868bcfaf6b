import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CL_STATUS_MAX_AGE_MS, clStatusDue, hasHeartbeatNews, LogFollower, parseClStatusLinks } from '../../../../lib/heartbeat/watch/sample.ts';

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

t.test('hasHeartbeatNews: heartbeat\'s own lines about a link or a node, not ResourceManager\'s or the watcher\'s', async (t) => {
  const rows: [string, boolean][] = [
    ['Dec 07 04:55:40 master2 heartbeat: [88]: info: Link master1:eth2 dead.', true],
    ['Dec 07 04:55:40 master2 heartbeat: [88]: WARN: node master1: is dead', true],
    ['Dec 07 04:56:02 master2 heartbeat: [88]: info: Link master1:eth2 up.', true],
    ['Dec 07 04:56:02 master2 heartbeat: [88]: info: Status update for node master1: status active', true],
    ['Dec 07 04:57:10 master1 heartbeat: [88]: info: Received shutdown notice from \'master2\'.', true],
    ['heartbeat[88]: 2026/12/07_04:55:40 WARN: node master1: is dead', true],
    ['Dec 07 04:55:17 master1 heartbeat: [87]: info: Configuration validated. Starting heartbeat 3.0.6', false],
    ['2026/12/07_04:55:30.369  ResourceManager(default)[413]:    info: Running /etc/ha.d//resource.d/IPaddr 198.18.4.1/16/eth1 start', false],
    ['2026/12/07_04:55:41  ha-agent-watch[51]:    CRIT: HA702 raised: heartbeat hears nothing from master1 (node master1: is dead) but 198.18.4.2 still answers', false],
  ];
  for (const [line, news] of rows) t.equal(hasHeartbeatNews(`${line}\n`), news, line);
});

t.test('LogFollower.newsAt: set by heartbeat\'s news appended after the first read, not by what the first read finds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `watch-news-${process.pid}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'ha-log');
  writeFileSync(log, 'Dec 07 04:55:40 master1 heartbeat: [88]: WARN: node master2: is dead\n');
  const f = new LogFollower(log, 'master2');
  f.poll();
  t.equal(f.newsAt, 0, 'old news at start-up: not news');
  appendFileSync(log, '2026/12/07_04:55:41  ResourceManager(default)[9]:    info: Running /etc/ha.d/resource.d/IPaddr 198.18.4.1 start\n');
  f.poll();
  t.equal(f.newsAt, 0, 'a ResourceManager line: not news');
  appendFileSync(log, 'Dec 07 04:56:02 master1 heartbeat: [88]: info: Link master2:eth2 up.\n');
  f.poll();
  t.ok(f.newsAt > 0, 'a link up: news');
});

t.test('parseClStatusLinks: listhblinks as cl_status prints it (tab-indented), with and without -m', async (t) => {
  t.same(parseClStatusLinks('\teth2\n\teth3\n'), ['eth2', 'eth3']);
  t.same(parseClStatusLinks('\tthis node have the following heartbeat links:\n\teth2\n'), ['eth2']);
  t.same(parseClStatusLinks(''), []);
});
