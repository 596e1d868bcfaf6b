// Writes the man pages (uncompressed roff) into OUTDIR:
//   man8/ha-agent.8, man7/ocf_hara_<agent>.7
// from the agents' parameter tables and the ha-agent CLI's commander program.
// Usage: bun packaging/manpages.ts OUTDIR VERSION YYYY-MM-DD
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { AGENTS } from '../agents/index.ts';
import { agentManPage, agentPageName, cliManPage } from '../lib/manpage.ts';

const [outDir, version, date] = process.argv.slice(2);
if (!outDir || !version || !/^\d{4}-\d{2}-\d{2}$/.test(date ?? '')) {
  process.stderr.write('usage: bun packaging/manpages.ts OUTDIR VERSION YYYY-MM-DD\n');
  process.exit(2);
}
const source = { version, date: date! };
const agents = await Promise.all(Object.values(AGENTS).map((load) => load()));

/** The CLI's own program when bin/cli.ts is there; else the multi-call entry alone. */
async function cliProgram(): Promise<Command> {
  const cli = resolve(dirname(new URL(import.meta.url).pathname), '../bin/cli.ts');
  if (existsSync(cli)) {
    const module = (await import(cli)) as { buildProgram: () => Command };
    return module.buildProgram();
  }
  return new Command('ha-agent').description('heartbeat v1 and OCF resource agents in one executable');
}

const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};
write(join(outDir, 'man8/ha-agent.8'), cliManPage(await cliProgram(), agents, source));
for (const agent of agents) write(join(outDir, `man7/${agentPageName(agent)}.7`), agentManPage(agent, source));
