import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { analyze, Meanings, toEvent, type Analysis } from '../../../../lib/heartbeat/timeline/analyze.ts';
import { classify, pairMarks } from '../../../../lib/heartbeat/timeline/classify.ts';
import { readInputs, rotatedSets } from '../../../../lib/heartbeat/timeline/read.ts';
import { timelineCommand, timelineJson, buildTimeline, parseOffsets, parseWhen, writeJson } from '../../../../lib/heartbeat/timeline/command.ts';
import { renderText } from '../../../../lib/heartbeat/timeline/text.ts';

// Real logs from the rig (test/fixtures/heartbeat/timeline/README.md): our
// agents, the stock ones, a split brain; then the same files shifted,
// rotated, gzipped, cut short and mixed with files that are no heartbeat log.

const FIX = 'test/fixtures/heartbeat/timeline';
const both = (run: string, ext = 'ha-debug') => [`${FIX}/${run}-master1.${ext}`, `${FIX}/${run}-master2.${ext}`].map((path) => ({ path }));
const tmp = mkdtempSync(`${tmpdir()}/tl-test-${process.pid}-`);
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

async function analysisOf(inputs: { path: string; node?: string }[], offsets?: Record<string, number>): Promise<{ a: Analysis; problems: string[] }> {
  const r = await readInputs(inputs);
  return { a: analyze(r.byNode, offsets ? { offsets } : {}), problems: r.problems };
}

const kinds = (a: Analysis) => a.incidents.map((i) => `${i.trigger.kind}:${i.trigger.subject}`);
const holders = (a: Analysis, id: number) => [...new Set(a.incidents[id - 1]!.outcome.flatMap((o) => o.holders))];

t.test('our agents: the five scenarios, each call with its duration to the ms, outcome and gap', async (t) => {
  const { a, problems } = await analysisOf(both('ours'));
  t.same(problems, []);
  t.same(a.nodes, ['master1', 'master2']);
  t.same(kinds(a), ['start:master1', 'shutdown:master1', 'start:master1', 'node-dead:master1', 'start:master1']);
  t.same(holders(a, 1), ['master1']);
  t.same(holders(a, 2), ['master2'], 'graceful failover: master2 holds the group');
  t.same(holders(a, 3), ['master1'], 'auto_failback');
  t.same(holders(a, 4), ['master2'], 'crash');
  t.same(holders(a, 5), ['master1']);
  const failover = a.incidents[1]!;
  t.same(failover.calls.map((c) => `${c.node} ${c.action} ${c.script} rc=${c.rc}`), [
    'master1 stop mysqld rc=0', 'master1 stop Filesystem rc=0', 'master1 stop drbddisk rc=0', 'master1 stop IPaddr rc=0',
    'master2 start IPaddr rc=0', 'master2 start drbddisk rc=0', 'master2 start Filesystem rc=0', 'master2 start mysqld rc=0',
  ]);
  for (const c of failover.calls) {
    t.notOk(c.coarse, `${c.script} ${c.action}: both ends to the ms (HA_DATEFMT and HA_debug)`);
    t.equal(c.endInferred, false);
    t.ok(c.durationMs! > 0 && c.durationMs! < 5000, `${c.script} ${c.action}: ${c.durationMs} ms`);
  }
  t.equal(failover.gap?.from, failover.calls[0]!.start, 'the gap opens with the first stop');
  t.equal(failover.gap?.to, failover.calls.at(-1)!.end, 'and closes when mysqld started on master2');
  t.equal(failover.gap?.ms, 3347);
  t.ok(failover.calls[4]!.steps.some((s) => /adding 198\.18\.4\.1/.test(s.text)), 'IPaddr\'s own steps inside its call');
  const crash = a.incidents[3]!;
  t.match(crash.gap?.note, /dead node's last log line/);
  t.notOk(a.resolution.hint, 'milliseconds there: no hint');
  // Clocks of one machine: 0, within heartbeat's second.
  const off = a.offsets.find((o) => o.node === 'master2')!;
  t.equal(off.source, 'estimated');
  t.ok(Math.abs(off.ms) <= off.uncertaintyMs! && off.uncertaintyMs! <= 1000, `offset ${off.ms} ±${off.uncertaintyMs}`);
  const text = renderText(a);
  t.match(text, /incident 2: shutdown of heartbeat on master1/);
  t.match(text, /service gap: 3\.347 s/);
  t.match(text, /outcome: master2 holds the group/);
  t.match(text, /\n {2}04:55:40 {6}master2 {2}heartbeat {8}WARN: node master1: is dead/, 'heartbeat\'s own stamp shown to the second, no invented ms');
});

t.test('stock agents: same incidents from the stock agents\' logs', async (t) => {
  const { a } = await analysisOf(both('stock'));
  t.same(kinds(a), ['start:master1', 'shutdown:master1', 'start:master1', 'node-dead:master1', 'start:master1']);
  t.same([2, 3, 4, 5].map((i) => holders(a, i)[0]), ['master2', 'master1', 'master2', 'master1']);
  for (const i of a.incidents.slice(1)) t.ok(i.gap?.ms !== undefined && i.gap.ms > 1000, `incident ${i.id}: gap ${i.gap?.ms} ms`);
});

t.test('split brain: a partition, master2\'s IPaddr refuses, master1 keeps the group', async (t) => {
  const { a } = await analysisOf(both('split-brain'));
  const p = a.incidents.find((i) => i.trigger.kind === 'partition');
  if (!p) return t.fail(`no partition in ${kinds(a)}`);
  t.match(p.notes.join('\n'), /lost each other/);
  const refused = p.calls.find((c) => c.node === 'master2' && c.script === 'IPaddr' && c.action === 'start');
  t.equal(refused?.rc, 1);
  t.match(refused?.refusals[0]?.text, /refusing to start: 198\.18\.4\.1 already answers/);
  t.same(holders(a, p.id), ['master1']);
  const lane = a.lanes.find((l) => l.node === 'master2' && l.resource.startsWith('IPaddr'))!;
  t.ok(lane.segments.some((s) => s.state === 'refused'), 'the refused start is a bar of its own');
  t.notOk(lane.segments.some((s) => s.state === 'held'), 'master2 never held the VIP');
});

/** Shifts every stamp of a log by ms (both the ha_log and the syslog shapes), as if that node's clock were off. */
function shift(text: string, ms: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return text
    .replace(/(\d{4})\/(\d\d)\/(\d\d)_(\d\d):(\d\d):(\d\d)(?:\.(\d{3}))?/g, (_, y, mo, d, h, mi, s, f) => {
      const t = new Date(new Date(+y, +mo - 1, +d, +h, +mi, +s, f ? +f : 0).getTime() + ms);
      return `${t.getFullYear()}/${p(t.getMonth() + 1)}/${p(t.getDate())}_${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}${f ? `.${p(t.getMilliseconds(), 3)}` : ''}`;
    })
    .replace(/^([A-Z][a-z]{2}) (\d\d) (\d\d):(\d\d):(\d\d)/gm, (_, mon, d, h, mi, s) => {
      const t = new Date(new Date(2026, MON.indexOf(mon), +d, +h, +mi, +s).getTime() + ms);
      return `${MON[t.getMonth()]} ${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
    });
}

t.test('clocks: master2 7 s ahead is estimated as +7 s, and --offset undoes it', async (t) => {
  const shifted = `${tmp}/ours-master2-ahead.ha-debug`;
  writeFileSync(shifted, shift(readFileSync(`${FIX}/ours-master2.ha-debug`, 'utf8'), 7000));
  const { a: base } = await analysisOf(both('ours'));
  const { a } = await analysisOf([{ path: `${FIX}/ours-master1.ha-debug` }, { path: shifted }]);
  const o0 = base.offsets.find((o) => o.node === 'master2')!;
  const o = a.offsets.find((o) => o.node === 'master2')!;
  t.equal(o.ms - o0.ms, 7000, 'the estimate moves by exactly the shift');
  t.ok(Math.abs(o.ms - 7000) <= o.uncertaintyMs!, `7000 within ${o.ms} ±${o.uncertaintyMs}`);
  t.same(kinds(a), kinds(base), 'corrected: the same incidents as with true clocks');
  t.equal(a.incidents[1]!.gap?.ms, base.incidents[1]!.gap?.ms, 'and the same gap');
  const { a: given } = await analysisOf([{ path: `${FIX}/ours-master1.ha-debug` }, { path: shifted }], { master2: 7000 });
  t.equal(given.offsets.find((x) => x.node === 'master2')!.source, 'given');
  t.equal(given.incidents[1]!.gap?.ms, 3347);
  t.same(parseOffsets(['master2=-1500', 'master1=+2s']), { master2: -1500, master1: 2000 });
});

t.test('year boundary: a syslog file across Dec 31 → Jan 1', async (t) => {
  const file = `${tmp}/messages`;
  writeFileSync(file, readFileSync(`${FIX}/year-boundary-master2.syslog`));
  utimesSync(file, new Date(2027, 0, 1, 0, 0, 6), new Date(2027, 0, 1, 0, 0, 6));
  const { a, problems } = await analysisOf([{ path: file }]);
  t.same(problems, []);
  t.same(a.nodes, ['master2'], 'the node from syslog\'s host field');
  t.equal(a.incidents.length, 1, 'one incident across midnight');
  const i = a.incidents[0]!;
  t.equal(i.trigger.kind, 'node-dead');
  t.equal(new Date(i.start).getFullYear(), 2026);
  t.equal(new Date(i.end).getFullYear(), 2027);
  t.same(i.calls.map((c) => c.script), ['IPaddr', 'drbddisk', 'Filesystem', 'mysqld']);
  t.ok(i.calls.every((c) => c.coarse), 'syslog stamps to the second');
  t.match(a.resolution.hint, /HA_DATEFMT='%Y\/%m\/%d_%T\.%3N '/, 'and how to get milliseconds');
  t.match(renderText(a), /start mysqld: ≤ 2 s \(end not logged/);
});

t.test('rotated and gzipped: ha-log.2.gz, ha-log.1, ha-log read oldest first as one log', async (t) => {
  const lines = readFileSync(`${FIX}/ours-master2.ha-debug`, 'utf8').split('\n');
  const third = Math.floor(lines.length / 3);
  writeFileSync(`${tmp}/ha-debug.2.gz`, gzipSync(lines.slice(0, third).join('\n') + '\n'));
  writeFileSync(`${tmp}/ha-debug.1`, lines.slice(third, 2 * third).join('\n') + '\n');
  writeFileSync(`${tmp}/ha-debug`, lines.slice(2 * third).join('\n'));
  const given = [`${tmp}/ha-debug`, `${tmp}/ha-debug.2.gz`, `${tmp}/ha-debug.1`].map((path) => ({ path }));
  t.same(rotatedSets(given)[0]!.map((s) => s.path.replace(`${tmp}/`, '')), ['ha-debug.2.gz', 'ha-debug.1', 'ha-debug']);
  const { a: whole } = await analysisOf([{ path: `${FIX}/ours-master2.ha-debug` }]);
  const { a, problems } = await analysisOf(given);
  t.same(problems, []);
  t.same(kinds(a), kinds(whole));
  t.same(a.lanes.map((l) => l.segments.length), whole.lanes.map((l) => l.segments.length));
});

t.test('bad input: one line per file naming it, no stack trace, the rest still printed', async (t) => {
  const notLog = `${tmp}/notes.txt`;
  writeFileSync(notLog, 'shopping list\nmilk\n');
  const binary = `${tmp}/core`;
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 0, 0, 10, 65]));
  const cut = `${tmp}/ha-debug-cut`;
  writeFileSync(cut, readFileSync(`${FIX}/ours-master1.ha-debug`, 'utf8') + 'ResourceManager(default)[932]:\t2026/12/07_04:5');
  const other = `${tmp}/other-cluster.log`;
  writeFileSync(other, readFileSync(`${FIX}/ours-master2.ha-debug`, 'utf8').replaceAll('master1', 'dbA').replaceAll('master2', 'dbB'));
  let out = '';
  let err = '';
  const code = await timelineCommand([cut, `${FIX}/ours-master2.ha-debug`, notLog, binary, other, `${tmp}/missing`], {}, { out: (s) => (out += s), err: (s) => (err += s) });
  t.equal(code, 0, 'output for the files it could read');
  const errLines = err.trim().split('\n');
  t.equal(errLines.length, 5, err);
  t.match(err, new RegExp(`${cut}: 1 truncated line\\(s\\) skipped \\(first at line \\d+\\)`));
  t.match(err, `${notLog}: not a heartbeat log`);
  t.match(err, `${binary}: a binary file`);
  t.match(err, `${other}: a log of another cluster (nodes dbB, dbA`);
  t.match(err, `${tmp}/missing: cannot read: ENOENT`);
  t.notMatch(err, /\n\s+at /, 'no stack trace');
  t.match(out, /incident 2: shutdown of heartbeat on master1/);
  // Nothing readable at all: exit 1, still one line per file.
  err = '';
  t.equal(await timelineCommand([notLog], {}, { out: () => {}, err: (s) => (err += s) }), 1);
  t.equal(err.trim().split('\n').length, 1);
  t.equal(await timelineCommand([], {}, { out: () => {}, err: () => {} }), 2, 'no file: usage');
  t.equal(await timelineCommand([notLog], { since: 'yesterday' }, { out: () => {}, err: () => {} }), 2, 'a bad --since: usage');
});

t.test('--json: the documented shape', async (t) => {
  const r = await buildTimeline([`master1=${FIX}/ours-master1.ha-log`, `${FIX}/ours-master2.ha-debug`], { since: '2026-12-07 04:55:30', until: '2026-12-07 04:55:39' });
  const j = JSON.parse(JSON.stringify(timelineJson(r)));
  t.equal(j.version, 1);
  t.same(Object.keys(j).sort(), ['files', 'incidents', 'lanes', 'nodes', 'offsets', 'problems', 'range', 'resolution', 'version'].sort());
  t.same(j.files.map((f: { node: string }) => f.node), ['master1', 'master2']);
  const inc = j.incidents.find((i: { trigger: { kind: string } }) => i.trigger.kind === 'shutdown');
  t.ok(inc, 'the failover inside the window');
  t.same(Object.keys(inc.calls[0]).sort(), ['action', 'coarse', 'durationMs', 'end', 'endInferred', 'lines', 'node', 'refusals', 'resource', 'script', 'start', 'startCoarse', 'steps'].sort());
  // master1's ha-log has no "done" lines (HA_debug goes to ha-debug only): its calls end at ResourceManager's next line.
  t.ok(inc.calls.filter((c: { node: string }) => c.node === 'master1').every((c: { endInferred: boolean }) => c.endInferred));
  t.ok(inc.calls.filter((c: { node: string }) => c.node === 'master2').every((c: { endInferred: boolean; rc: number }) => !c.endInferred && c.rc === 0));
  t.ok(j.lanes.every((l: { segments: { state: string }[] }) => l.segments.every((s) => ['held', 'starting', 'stopping', 'refused', 'unknown'].includes(s.state))));
  t.equal(parseWhen('1796619315069', '--since'), 1796619315069, 'epoch ms (the rig and the bench pass windows so)');
  t.equal(parseWhen('2026-12-07T04:55:30', '--since'), new Date(2026, 11, 7, 4, 55, 30).getTime());
  t.ok(j.range.from >= new Date(2026, 11, 7, 4, 55, 30).getTime() && j.range.to <= new Date(2026, 11, 7, 4, 55, 39).getTime(), '--since/--until');
});

t.test('--json and text are written piece by piece, byte for byte what one string gave', async (t) => {
  const r = await buildTimeline([`${FIX}/split-brain-master1.ha-debug`, `${FIX}/split-brain-master2.ha-debug`], {});
  t.ok(r.analysis.incidents.length > 1 && r.analysis.lanes.length > 1, 'arrays with several elements');
  const pieces: string[] = [];
  writeJson(timelineJson(r), (s) => pieces.push(s));
  t.ok(pieces.length > r.analysis.incidents.length, 'one piece per element at least');
  t.equal(pieces.join(''), `${JSON.stringify(timelineJson(r), null, 2)}\n`);
  for (const v of [{}, { a: [], b: undefined, c: { d: [1, { e: 'x\ny' }] } }, { a: [null, 'q', [1, 2], {}], z: 0 }, { deep: [[[[{ a: [1, { b: 'x\ny' }], f: () => 1 }, [undefined, NaN, -0, 1e21]]]]], d: new Date(0), u: '\u2028<"' }, [1, 'x'], 'top', null]) {
    let got = '';
    writeJson(v, (s) => (got += s));
    // The message escaped: a raw U+2028 in it cuts tap's own output short.
    t.equal(got, `${JSON.stringify(v, null, 2)}\n`, JSON.stringify(v).replace(/\u2028/g, '\\u2028'));
  }
  let out = '';
  let writes = 0;
  t.equal(await timelineCommand([`${FIX}/split-brain-master1.ha-debug`, `${FIX}/split-brain-master2.ha-debug`], {}, { out: (s) => ((out += s), writes++), err: () => {} }), 0);
  t.equal(out, renderText(r.analysis));
  t.ok(writes >= 1);
});

t.test('ha-log and ha-debug of the same node: read once', async (t) => {
  const { a: debugOnly } = await analysisOf([{ path: `${FIX}/ours-master1.ha-debug` }]);
  const { a } = await analysisOf([{ path: `${FIX}/ours-master1.ha-log` }, { path: `${FIX}/ours-master1.ha-debug` }]);
  t.equal(a.incidents.flatMap((i) => i.calls).length, debugOnly.incidents.flatMap((i) => i.calls).length, 'no call twice');
  t.equal(a.incidents.flatMap((i) => i.decisions).length, debugOnly.incidents.flatMap((i) => i.decisions).length, 'no decision twice');
});

t.test('Event: its JSON is the LineRef (source as FILE:LINE), the rest private; at() moves it in time only', async (t) => {
  const e = toEvent({ node: 'master2', t: 1000, coarse: true, prog: 'heartbeat', tag: 'heartbeat[88]', text: "info: Received shutdown notice from 'master1'.", file: '/var/log/ha-debug', line: 42 })!;
  t.ok(e);
  t.equal(JSON.stringify(e), JSON.stringify({ node: 'master2', t: 1000, coarse: true, tag: 'heartbeat[88]', text: "info: Received shutdown notice from 'master1'.", source: '/var/log/ha-debug:42' }));
  t.same(Object.keys(e), ['node', 't', 'coarse', 'tag', 'text']);
  t.equal(e.source, '/var/log/ha-debug:42');
  t.equal(e.prog, 'heartbeat');
  t.same(e.meaning, { kind: 'trigger', trigger: 'shutdown', peer: 'master1' });
  t.same(e.pairs, [{ side: 'recv', key: 'shutdown', sender: 'master1' }]);
  const moved = e.at(400);
  t.equal(moved.t, 400);
  t.equal(e.t, 1000, 'the original stays');
  t.equal(moved.source, e.source);
  t.equal(moved.meaning, e.meaning);
  t.equal(toEvent({ node: 'n', t: 0, coarse: true, prog: 'heartbeat', tag: 'heartbeat[1]', text: 'info: Link master1:eth1 up.', file: 'f', line: 1 }), undefined, 'noise: no event');
});

t.test('Meanings: what classify and pairMarks say, one shared answer per node, program and text, up to its limit', async (t) => {
  const m = new Meanings(2);
  const text = 'info: master1 wants to go standby [foreign]';
  const a = m.of('heartbeat', text, 'master2');
  t.same(a, [classify('heartbeat', text), pairMarks(text, 'master2')]);
  t.equal(m.of('heartbeat', `${'info: master1'} wants to go standby [foreign]`, 'master2'), a, 'the same answer object');
  const self = m.of('heartbeat', text, 'master1');
  t.same(self, [classify('heartbeat', text), pairMarks(text, 'master1')], 'the pairs depend on the node');
  t.not(self, a);
  t.same(m.of('IPaddr', 'DEBUG: x', 'master1'), [undefined, undefined]);
  const over = m.of('IPaddr', 'INFO: y', 'master1');
  t.same(over, [classify('IPaddr', 'INFO: y'), undefined], 'beyond the limit: still the answer');
  t.not(m.of('IPaddr', 'INFO: y', 'master1'), over, 'not remembered');
});
