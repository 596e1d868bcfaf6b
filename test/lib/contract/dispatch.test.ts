import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentContext, AgentDefinition } from '../../../lib/contract/agent.ts';
import { detectMode, runAgent } from '../../../lib/contract/dispatch.ts';
import { RefusedError, NotInstalledError } from '../../../lib/contract/errors.ts';

const rsctmp = mkdtempSync(join(tmpdir(), 'dispatch-test-'));
t.teardown(() => rmSync(rsctmp, { recursive: true, force: true }));

/** A resource that is a boolean in memory: enough to check the contract, not an agent. */
function fakeAgent(state: { held: boolean; calls: string[]; failStart?: Error }): AgentDefinition {
  return {
    name: 'Fake',
    version: '1.0',
    shortdesc: 'fake resource',
    longdesc: 'A fake resource for contract tests.',
    params: [{ name: 'thing', type: 'string', required: true, v1: 0, shortdesc: 'the thing' }],
    v1Synopsis: 'thing',
    timeouts: { start: 5, stop: 5, monitor: 5 },
    lockKey: (p) => p.get('thing'),
    start: async (ctx: AgentContext) => {
      state.calls.push(`start ${ctx.params.get('thing')} ${ctx.mode}`);
      if (state.failStart) throw state.failStart;
      state.held = true;
    },
    stop: async () => {
      state.calls.push('stop');
      state.held = false;
    },
    status: async () => ({ held: state.held, detail: state.held ? 'here' : undefined }),
  };
}

async function call(agent: AgentDefinition, argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runAgent(agent, argv, { HA_RSCTMP: rsctmp, ...env }, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

t.test('mode detection', async (t) => {
  t.equal(detectMode(['198.18.4.1'], { OCF_RESKEY_ip: 'x' }), 'v1', 'positional arguments mean heartbeat v1');
  t.equal(detectMode([], {}), 'v1', 'bare `mysqld start` from haresources');
  t.equal(detectMode([], { OCF_RESKEY_ip: 'x' }), 'ocf');
  t.equal(detectMode([], { OCF_RESOURCE_INSTANCE: 'vip' }), 'ocf');
});

t.test('v1: start/status/stop and LSB status codes', async (t) => {
  const state = { held: false, calls: [] as string[] };
  const agent = fakeAgent(state);
  t.same(await call(agent, ['a', 'status']), { code: 3, stdout: 'stopped\n', stderr: '' });
  t.same(await call(agent, ['a', 'start']), { code: 0, stdout: '', stderr: '' });
  t.same(await call(agent, ['a', 'status']), { code: 0, stdout: 'running (here)\n', stderr: '' });
  t.same(await call(agent, ['a', 'stop']), { code: 0, stdout: '', stderr: '' });
  t.same(state.calls, ['start a v1', 'stop']);
});

t.test('OCF: monitor 0/7, status prints too, exit reasons on failure', async (t) => {
  const state: { held: boolean; calls: string[]; failStart?: Error } = { held: false, calls: [] };
  const agent = fakeAgent(state);
  const env = { OCF_RESKEY_thing: 'b' };
  t.equal((await call(agent, ['monitor'], env)).code, 7);
  t.same(await call(agent, ['start'], env), { code: 0, stdout: '', stderr: '' });
  t.same(await call(agent, ['monitor'], env), { code: 0, stdout: '', stderr: '' });
  t.same(await call(agent, ['status'], env), { code: 0, stdout: 'running (here)\n', stderr: '' });
  state.failStart = new RefusedError('refusing to start: b is held by peer');
  state.held = false;
  t.same(await call(agent, ['start'], env), { code: 1, stdout: '', stderr: 'ocf-exit-reason:refusing to start: b is held by peer\n' });
  state.failStart = new NotInstalledError('tool not found');
  t.equal((await call(agent, ['start'], env)).code, 5);
  t.equal((await call(agent, ['start'], {})).code, 6, 'OCF-less bare call: required parameter missing');
});

t.test('bad calls', async (t) => {
  const agent = fakeAgent({ held: false, calls: [] });
  const v1Unknown = await call(agent, ['a', 'frobnicate']);
  t.equal(v1Unknown.code, 2, 'v1 unknown action: invalid argument');
  t.match(v1Unknown.stderr, /^Fake: unknown action "frobnicate"\nusage: Fake thing \{start\|stop\|status\}/);
  t.equal((await call(agent, ['frobnicate'], { OCF_RESKEY_thing: 'x' })).code, 3, 'OCF unknown action: unimplemented');
  t.equal((await call(agent, [])).code, 2, 'no action');
  const meta = await call(agent, ['a', 'b', 'start']);
  t.equal(meta.code, 2);
  t.match(meta.stderr, /^Fake: too many arguments/);
  t.equal(meta.stderr.split('\n').filter(Boolean).length, 1, 'one line');
  const evil = await call(agent, ['a;reboot', 'start']);
  t.same(evil, { code: 6, stdout: '', stderr: 'Fake: thing "a;reboot" contains the shell metacharacter ";"\n' });
});

t.test('meta-data, help and usage need no parameters', async (t) => {
  const agent = fakeAgent({ held: false, calls: [] });
  const meta = await call(agent, ['meta-data']);
  t.equal(meta.code, 0);
  t.match(meta.stdout, /<resource-agent name="Fake"/);
  const help = await call(agent, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Fake thing \{start\|stop\|status\}/);
  t.match(help.stdout, /thing +the thing \(required/);
});

t.test('validate-all does not run start', async (t) => {
  const state = { held: false, calls: [] as string[] };
  t.equal((await call(fakeAgent(state), ['validate-all'], { OCF_RESKEY_thing: 'x' })).code, 0);
  t.same(state.calls, []);
});
