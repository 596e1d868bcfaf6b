import t from 'tap';
import drbddisk from '../../agents/drbddisk.ts';
import filesystem from '../../agents/filesystem.ts';
import { allowedExitCodes, judge, resolveTemplate, withoutUsage, type CallResult } from './harness.ts';
import { synopsisFields, type V1Case } from './generators.ts';

// The fuzzer's checks must be able to fail: each one against a result that breaks it.

const result = (exitCode: number, stderr = '', stdout = ''): CallResult => ({ exitCode, signal: null, stdout, stderr, ms: 10 });
const v1 = (args: string[], action: string): V1Case => ({ mode: 'v1', args, action });
const argv = (name: string, c: V1Case) => [`/x/${name}`, ...c.args, c.action];

t.test('exit codes per mode and action', async (t) => {
  t.same(allowedExitCodes('v1', 'status', []), [0, 3, 4, 2, 5, 6], 'LSB status: never 1');
  t.same(allowedExitCodes('ocf', 'monitor', []), [0, 7, 1, 2, 4, 5, 6]);
  t.same(allowedExitCodes('ocf', 'promote', []), [3], 'OCF: unimplemented');
  t.same(allowedExitCodes('v1', 'promote', []), [2], 'LSB: invalid argument');
  t.same(allowedExitCodes('v1', 'start', ['--help', 'start']), [0]);
});

t.test('judge: each check fails on a result that breaks it', async (t) => {
  const status = v1(['r0'], 'status');
  const ok = judge(drbddisk, status, argv('drbddisk', status), result(3, '', 'stopped (Secondary)\n'));
  t.same(ok, [], 'a good status passes');
  const cases: [V1Case, CallResult, RegExp][] = [
    [status, result(1, 'drbddisk: boom\n'), /exit 1, documented/],
    [status, result(0, '', 'stopped\n'), /ResourceManager reads/],
    [status, result(4, 'drbddisk: internal error: x\n'), /internal error/],
    [status, result(4, 'drbddisk: x\n    at foo (/a/b.ts:1:2)\n'), /stack trace/],
    [status, result(6, 'drbddisk: a\x1bb\n'), /control character/],
    [status, result(6, 'a\nb\nc\nd\n'), /4 lines on stderr/],
    [v1(['r0'], 'start'), result(1, ''), /nothing on stderr/],
    [v1([''], 'start'), result(1, 'drbddisk: not up\n'), /empty argument 1 accepted/],
  ];
  for (const [c, r, problem] of cases) t.match(judge(drbddisk, c, argv('drbddisk', c), r).join('; '), problem, `${JSON.stringify(r.stderr || r.stdout)} → ${problem}`);
  const fs = v1(['/dev/x', '/data', ''], 'start');
  t.same(judge(filesystem, fs, argv('Filesystem', fs), result(0)), [], 'an empty optional field of an agent with its own v1 parser may mean "not given"');
});

t.test('usage block is not counted', async (t) => {
  t.same(withoutUsage('IPaddr: unknown action "x"\nusage: IPaddr a {start}\n       IPaddr {start|stop}\n       IPaddr --help\n'), ['IPaddr: unknown action "x"']);
});

t.test('templates: rig values and raw bytes', async (t) => {
  t.same([...resolveTemplate('{{dev}}/a{{xff}}b{{nope}}', { dev: '/dev/loop9' })], [...Buffer.from('/dev/loop9/a'), 0xff, ...Buffer.from('b{{nope}}')]);
});

t.test('v1 synopsis fields come from the table', async (t) => {
  const ipaddr = (await import('../../agents/ipaddr.ts')).default;
  t.same(synopsisFields(ipaddr)[0]?.map((f) => `${f.sep}${f.spec.name}`), ['ip', '/cidr_netmask', '/nic', ':iflabel', '/broadcast']);
  t.same(synopsisFields(drbddisk), [undefined]);
});
