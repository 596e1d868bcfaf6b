import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AGENTS_DIR } from '../rig/agents.ts';

// The shipped ocft case file for the stock mysql agent
// (/usr/share/resource-agents/ocft/configs/mysql), run against our mysqld
// with only its Agent and AgentRoot lines changed. It drives the system
// server (default config, /var/lib/mysql, /run/mysqld, 127.0.0.1:3306), so
// it runs in a private mount + network namespace over tmpfs copies of those
// places (test/rig/ocft-mysqld-sandbox.sh).
//
// Every case applies and must pass. Two environment steps of the case file
// cannot run in a sandbox and are stubbed there, recorded here:
//   - SETUP-AGENT `systemctl start/stop mysql.service`: systemd is not PID 1
//     on this machine; the stub succeeds without doing anything (the
//     sandbox's datadir was initialised by mariadb-install-db instead).
//   - InstallPackage default-mysql-server (apt-get install): the stub installs
//     nothing and succeeds because mariadb-server, which that Debian
//     metapackage stands for, is installed.

const SCRIPT = fileURLToPath(new URL('../rig/ocft-mysqld-sandbox.sh', import.meta.url));
const CASE_FILE = '/usr/share/resource-agents/ocft/configs/mysql';

t.test('ocft configs/mysql: every case passes against mysqld', async (t) => {
  const work = mkdtempSync(`${tmpdir()}/ha-mysqld-ocft-${process.pid}-`);
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const r = await execa('unshare', ['--mount', '--net', '--propagation', 'slave', '--', 'bash', SCRIPT, work, AGENTS_DIR], { reject: false, all: true, timeout: 600_000 });
  const output = r.all.replace(/\x1b\[[0-9;]*m/g, '');
  t.equal(r.exitCode, 0, `ocft ran:\n${output}`);

  const cases = [...readFileSync(CASE_FILE, 'utf8').matchAll(/^CASE "(.*)"$/gm)].map((m) => m[1]!);
  t.ok(cases.length >= 12, `${cases.length} cases in the shipped file`);
  const results = new Map([...output.matchAll(/^mysqld: (.*) - (\S+)\.$/gm)].map((m) => [m[1]!, m[2]!]));
  for (const name of cases) t.equal(results.get(name), 'OK', `case "${name}"`);
  t.notMatch(output, /left running/, 'no case left a server running');

  const diff = readFileSync(`${work}/config.diff`, 'utf8');
  const changed = diff.split('\n').filter((l) => /^[<>]/.test(l)).map((l) => l.slice(2).trim().split(/\s+/)[0]);
  t.same([...new Set(changed)].sort(), ['Agent', 'AgentRoot'], 'only Agent and AgentRoot differ from the shipped file');
  const stubCalls = readFileSync(`${work}/stub-calls.log`, 'utf8');
  t.match(stubCalls, /systemctl start mysql\.service/, 'SETUP-AGENT ran (against the systemctl stub)');
});
