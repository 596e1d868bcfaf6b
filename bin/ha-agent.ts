#!/usr/bin/env node
// The multi-call entry point: IPaddr, drbddisk, Filesystem and mysqld are
// links to one executable, which acts as the agent it was called as.
// `ha-agent --agent NAME ...` does the same by hand; by its own name it is
// the operator CLI (bin/cli.ts).
import { AGENTS } from '../agents/index.ts';
import { runAgent } from '../lib/contract/dispatch.ts';
import { writeStderr } from '../lib/system/stdio.ts';

function invokedName(): string {
  // Bun's compiled binaries keep the name we were called by in argv0; under Node it is the script.
  const called = process.versions.bun ? process.argv0 : (process.argv[1] ?? '');
  return called.slice(called.lastIndexOf('/') + 1).replace(/\.(ts|js|mjs)$/, '');
}

async function main(): Promise<number> {
  let argv = process.argv.slice(2);
  let name = invokedName();
  let byFlag = false;
  if (argv[0] === '--agent') {
    name = argv[1] ?? '';
    argv = argv.slice(2);
    byFlag = true;
  } else if (argv[0]?.startsWith('--agent=')) {
    name = argv[0].slice('--agent='.length);
    argv = argv.slice(1);
    byFlag = true;
  }
  const load = AGENTS[name];
  if (load) return runAgent(await load(), argv);
  // Called by its own name: the operator's CLI (check, status, crm-config, run).
  // Loaded only here, so the agents' cold calls never evaluate commander.
  if (name === 'ha-agent' && !byFlag) return (await import('./cli.ts')).runCli(argv);
  writeStderr(
    `ha-agent: ${byFlag ? `--agent ${JSON.stringify(name)}` : `called as ${JSON.stringify(name)}, which`} is none of ${Object.keys(AGENTS).join(', ')}\n` +
      `usage: ha-agent --agent {${Object.keys(AGENTS).join('|')}} ARGS... ACTION (or call it through a link with the agent's name; ha-agent --help for the rest)\n`,
  );
  return 2;
}

void main().then((code) => process.exit(code));
