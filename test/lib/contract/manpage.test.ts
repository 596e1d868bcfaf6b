import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { AGENTS } from '../../../agents/index.ts';
import { buildProgram } from '../../../bin/cli.ts';
import { agentManPage, agentPageName, cliManPage, roffLiteral, roffText } from '../../../lib/contract/manpage.ts';
import { ocfActions } from '../../../lib/contract/metadata.ts';
import type { AgentDefinition } from '../../../lib/contract/agent.ts';

const source = { version: '0.1.0', date: '2026-11-28' };
const agents = await Promise.all(Object.values(AGENTS).map((load) => load()));
const work = mkdtempSync(join(tmpdir(), `manpage-${process.pid}-`));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** Renders with man-db the way lintian's manpage check does; returns the text and groff's warnings. */
async function render(name: string, roff: string): Promise<{ text: string; warnings: string }> {
  const path = join(work, name);
  writeFileSync(path, roff);
  const result = await execa('man', ['--warnings', '-E', 'UTF-8', '-l', path], {
    env: { MANWIDTH: '200', LC_ALL: 'C.UTF-8', MAN_KEEP_FORMATTING: '' },
    reject: false,
  });
  t.equal(result.exitCode, 0, `man -l ${name} exits 0`);
  return { text: String(result.stdout).replace(/.\x08/g, ''), warnings: String(result.stderr) };
}

t.test('roff escaping: table text can never become a request or an escape', async (t) => {
  t.equal(roffText('a\\b'), 'a\\eb');
  t.equal(roffText('.TH evil\n\'br too'), '\\&.TH evil\n\\&\'br too');
  t.equal(roffLiteral('--help'), '\\-\\-help');
});

for (const agent of agents) {
  t.test(`${agentPageName(agent)}(7) is made from the ${agent.name} table`, async (t) => {
    const { text, warnings } = await render(`${agentPageName(agent)}.7`, agentManPage(agent, source));
    t.equal(warnings, '', 'groff gives no warnings');
    t.match(text, new RegExp(`^NAME\\n\\s+${agentPageName(agent)} - `, 'm'));
    t.ok(text.includes(`/etc/ha.d/resource.d/${agent.name}`), 'heartbeat v1 path in the synopsis');
    const flat = text.replace(/\s+/g, ' ');
    t.ok(flat.includes(`${agent.v1Synopsis} {start|stop|status}`), 'the v1 synopsis');
    t.ok(flat.includes(`/usr/lib/ocf/resource.d/hara/${agent.name}`), 'the OCF path');
    for (const p of agent.params) {
      t.match(text, new RegExp(`^\\s+${p.name} \\(${p.type}`, 'm'), `parameter ${p.name} with its type`);
      t.ok(flat.includes(p.shortdesc.replace(/\s+/g, ' ')), `${p.name} shortdesc`);
      if (p.default) t.ok(flat.includes(`default ${p.default}`), `${p.name} default`);
    }
    for (const action of new Set(ocfActions(agent).map((a) => a.name))) t.match(text, new RegExp(`^\\s+${action}\\b`, 'm'), `action ${action}`);
  });
}

t.test('a parameter added to a table shows up in the page', async (t) => {
  const base = agents[0]!;
  const changed: AgentDefinition = { ...base, params: [...base.params, { name: 'brand_new', type: 'integer', default: '7', shortdesc: 'A parameter. With a .dot and a \\ backslash' }] };
  const { text, warnings } = await render('changed.7', agentManPage(changed, source));
  t.equal(warnings, '');
  t.match(text, /brand_new \(integer, default 7\)/);
  t.match(text, /A parameter\. With a \.dot and a \\ backslash/);
});

t.test('ha-agent(8) lists every subcommand with its arguments and options, and every agent', async (t) => {
  const program = new Command('ha-agent').description('debugging tool and resource agents').option('-v, --verbose', 'say more');
  program.addHelpText('after', '\nExit codes: 0 ok,\n1 findings.');
  program.command('check').description('checks the node').argument('[agent]', 'one agent only').option('--json', 'machine-readable output');
  program.command('status').description('shows every resource').option('-r, --resource <name>', 'one resource', 'all');
  program.command('run').description('runs one action').argument('<agent>', 'agent name').argument('<args...>', 'arguments and action');
  const { text, warnings } = await render('ha-agent.8', cliManPage(program, agents, source));
  t.equal(warnings, '', 'groff gives no warnings');
  t.match(text, /^NAME\n\s+ha-agent - debugging tool and resource agents/m);
  for (const line of ['ha-agent check [options] [agent]', 'ha-agent status [options]', 'ha-agent run <agent> <args...>'.replace(/[<>]/g, ''), 'ha-agent --agent NAME [ARGS...] ACTION']) {
    t.ok(text.replace(/[ \t]+/g, ' ').includes(line), `synopsis: ${line}`);
  }
  for (const bit of ['checks the node', 'one agent only', '--json', 'machine-readable output', '-r, --resource <name>', '(default: all)', 'arguments and action', '-v, --verbose']) {
    t.ok(text.includes(bit), `mentions ${bit}`);
  }
  for (const agent of agents) t.ok(text.includes(`${agentPageName(agent)}(7)`), `refers to ${agentPageName(agent)}(7)`);
  t.match(text, /^NOTES\n\s+Exit codes: 0 ok, 1 findings\./m, 'the help text after the options, as NOTES');
});

t.test('ha-agent(8) from the real CLI (bin/cli.ts): every command, argument and visible option', async (t) => {
  const program = buildProgram();
  const { text, warnings } = await render('ha-agent-real.8', cliManPage(buildProgram(), agents, source));
  t.equal(warnings, '', 'groff gives no warnings');
  const flat = text.replace(/\s+/g, ' ');
  t.ok(program.commands.length >= 4, 'the CLI has its commands');
  for (const command of program.commands) {
    t.match(text, new RegExp(`^\\s+ha-agent ${command.name()}\\b`, 'm'), `command ${command.name()}`);
    t.ok(flat.includes(command.description().replace(/\s+/g, ' ')), `${command.name()}: its description`);
    for (const arg of command.registeredArguments) t.ok(flat.includes(arg.description.replace(/\s+/g, ' ')), `${command.name()} ${arg.name()}`);
    for (const option of command.options) {
      if (option.hidden) t.notOk(text.includes(option.long!), `${option.long} stays hidden`);
      else t.ok(text.includes(option.flags), `${command.name()} ${option.flags}`);
    }
  }
});
