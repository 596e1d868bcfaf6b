import t from 'tap';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { buildProgram } from '../../bin/cli.ts';
import { AGENTS_DIR, ROOT } from '../rig/agents.ts';

// ha-agent by its own name: the commander CLI of the built binary; the
// agents' names and --agent keep their contract.

const haAgent = `${AGENTS_DIR}/ha-agent`;
const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const cli = (args: string[]) => execa(haAgent, args, { reject: false, env, extendEnv: false });
const version = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')).version as string;

t.test('--help lists every command; --version; no command is a usage error', async (t) => {
  const help = await cli(['--help']);
  t.equal(help.exitCode, 0);
  for (const command of ['check', 'status', 'crm-config', 'run']) t.match(help.stdout, new RegExp(`^  ${command} `, 'm'), `lists ${command}`);
  t.notMatch(help.stdout, /--root/, 'the test-only --root stays out of --help');
  const v = await cli(['--version']);
  t.same([v.exitCode, v.stdout], [0, version]);
  const none = await cli([]);
  t.equal(none.exitCode, 2);
  t.match(none.stderr, /^Usage: ha-agent /);
  const bogus = await cli(['frobnicate']);
  t.equal(bogus.exitCode, 2);
  t.match(bogus.stderr, /unknown command 'frobnicate'/);
  const sub = await cli(['check', '--help']);
  t.equal(sub.exitCode, 0);
  t.match(sub.stdout, /--ha-dir <dir>/);
});

t.test('every command, argument and option has a description (the man page is generated from them)', async (t) => {
  const program = buildProgram();
  t.ok(program.description());
  for (const command of program.commands) {
    t.ok(command.description(), `${command.name()}: described`);
    for (const arg of command.registeredArguments) t.ok(arg.description, `${command.name()} <${arg.name()}>: described`);
    for (const option of command.options) t.ok(option.description, `${command.name()} ${option.flags}: described`);
  }
  t.same(program.commands.map((c) => c.name()).sort(), ['check', 'crm-config', 'run', 'status', 'watch']);
});

t.test('run NAME ARGS ACTION is the agent through its link; --agent still works', async (t) => {
  const viaRun = await cli(['run', 'IPaddr', '198.18.250.1/24/lo', 'status']);
  const viaLink = await execa(`${AGENTS_DIR}/IPaddr`, ['198.18.250.1/24/lo', 'status'], { reject: false, env, extendEnv: false });
  const viaFlag = await cli(['--agent', 'IPaddr', '198.18.250.1/24/lo', 'status']);
  for (const r of [viaRun, viaFlag]) t.same([r.exitCode, r.stdout, r.stderr], [viaLink.exitCode, viaLink.stdout, viaLink.stderr]);
  t.equal(viaLink.exitCode, 3, 'not held: LSB 3');
  const helpOfAgent = await cli(['run', 'drbddisk', '--help']);
  t.match(helpOfAgent.stdout, /^drbddisk - /, 'options after NAME are the agent\'s');
  const runHelp = await cli(['run', '--help']);
  t.equal(runHelp.exitCode, 0);
  t.match(runHelp.stdout, /^Usage: ha-agent run <name> \[args\.\.\.\]/);
  const unknown = await cli(['run', 'httpd', 'status']);
  t.equal(unknown.exitCode, 2);
  t.match(unknown.stderr, /unknown agent "httpd"; one of IPaddr, drbddisk, Filesystem, mysqld/);
});
