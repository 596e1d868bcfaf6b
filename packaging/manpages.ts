// Writes the man pages (uncompressed roff) into OUTDIR:
//   man8/ha-agent.8, man7/ocf_hara_<agent>.7
// from the agents' parameter tables and the ha-agent CLI's commander program.
// Usage: bun packaging/manpages.ts OUTDIR VERSION YYYY-MM-DD
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENTS } from '../agents/index.ts';
import { buildProgram } from '../bin/cli.ts';
import { agentManPage, agentPageName, cliManPage } from '../lib/contract/manpage.ts';

const [outDir, version, date] = process.argv.slice(2);
if (!outDir || !version || !/^\d{4}-\d{2}-\d{2}$/.test(date ?? '')) {
  process.stderr.write('usage: bun packaging/manpages.ts OUTDIR VERSION YYYY-MM-DD\n');
  process.exit(2);
}
const source = { version, date: date! };
const agents = await Promise.all(Object.values(AGENTS).map((load) => load()));

const write = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};
write(join(outDir, 'man8/ha-agent.8'), cliManPage(buildProgram(), agents, source));
for (const agent of agents) write(join(outDir, `man7/${agentPageName(agent)}.7`), agentManPage(agent, source));
