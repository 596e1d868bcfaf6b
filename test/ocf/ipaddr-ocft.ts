import type { Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { AGENTS_DIR } from '../rig/agents.ts';
import { type Lan, createLan } from '../rig/netns.ts';

// Runs a shipped ocft case file (/usr/share/resource-agents/ocft/configs)
// against our IPaddr inside a namespace of our making. Helper for
// test/ocf/ipaddr-ocft-*.test.ts, not a test itself.
//
// What changes in the case file: the Agent/AgentRoot lines (our IPaddr in
// HA_AGENTS_DIR), and - because this repository's hard safety rule allows
// test addresses only from 198.18.0.0/15 and fd00::/8 - the documentation
// prefixes in its VARIABLE section are mapped one to one:
// 192.168.x.y → 198.18.x.y, 2001:db8: → fd00:db8:. Cases, their order and
// their expectations are untouched. eth0/eth1 exist only in the namespace.
// ocft writes its generated scripts to /var/lib/resource-agents/ocft/cases:
// that directory (and /run/resource-agents) get a private tmpfs in a
// private mount namespace, so the host's copies are never touched.

export const OCFT_CONFIGS = '/usr/share/resource-agents/ocft/configs';

export function adaptCaseFile(text: string, agentsDir: string): string {
  return text
    .replace(/^(\s*)Agent IPaddr2\s*$/m, '$1Agent IPaddr')
    .replace(/^(\s*)AgentRoot .*$/m, `$1AgentRoot ${agentsDir}`)
    .replace(/192\.168\.(\d+)\.(\d+)/g, '198.18.$1.$2')
    .replace(/2001:db8:/g, 'fd00:db8:');
}

export interface OcftCase {
  index: number;
  name: string;
  ok: boolean;
  /** What ocft printed for a failed case. */
  detail: string;
}

/** Case names in file order (ocft numbers them from 0). */
export function caseNames(config: string): string[] {
  return [...config.matchAll(/^CASE "([^"]+)"/gm)].map((m) => m[1]!);
}

/** "IPaddr2v4: normal start - OK." / "... - FAILED. Agent returns unexpected value ..." in order. */
export function parseOcftOutput(configName: string, output: string): OcftCase[] {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const cases: OcftCase[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = new RegExp(`^${configName}: (.*) - (OK|FAILED)\\.(.*)$`).exec(lines[i]!);
    if (!m) continue;
    const detail = m[2] === 'FAILED' ? [m[3]!.trim(), ...lines.slice(i + 1, i + 4)].join(' ').trim() : '';
    cases.push({ index: cases.length, name: m[1]!, ok: m[2] === 'OK', detail });
  }
  return cases;
}

export interface OcftRun {
  lan: Lan;
  work: string;
  config: string;
  output: string;
  exitCode: number;
  cases: OcftCase[];
  destroy(): Promise<void>;
}

export async function runOcftSuite(tag: string, configName: string): Promise<OcftRun> {
  const lan = await createLan(tag, [{ name: 'node', nics: ['eth0', 'eth1'] }]);
  const work = mkdtempSync(`${tmpdir()}/ipaddr-ocft-${configName}-`);
  const destroy = async () => {
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const config = adaptCaseFile(readFileSync(`${OCFT_CONFIGS}/${configName}`, 'utf8'), resolve(AGENTS_DIR));
    mkdirSync(`${work}/configs`);
    mkdirSync(`${work}/rsctmp`);
    writeFileSync(`${work}/configs/${configName}`, config);
    // Test-authored script; the only variable parts are our own paths and the config name.
    const script = [
      'set -e',
      'mkdir -p /var/lib/resource-agents/ocft /run/resource-agents',
      'mount -t tmpfs ocft-private /var/lib/resource-agents/ocft',
      'mount -t tmpfs ocft-private /run/resource-agents',
      `ocft make -d "${work}/configs" ${configName}`,
      `ocft test ${configName}`,
    ].join('\n');
    const result = await execa('ip', ['netns', 'exec', lan.nodes.node!.ns, 'unshare', '--mount', '--propagation', 'slave', 'bash', '-c', script], {
      reject: false,
      cwd: work,
      timeout: 540_000,
      all: true,
      extendEnv: false,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HA_RSCTMP: `${work}/rsctmp`, LANG: 'C' },
    });
    const output = String(result.all ?? '');
    return { lan, work, config, output, exitCode: result.exitCode ?? -1, cases: parseOcftOutput(configName, output), destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * Every case of the shipped file was reported, in order, and passed; a case in
 * `notApplicable` must instead fail, with its recorded reason in the message.
 */
export function checkEveryCase(t: Test, run: OcftRun, expectedCount: number, notApplicable: Record<number, string> = {}): OcftCase[] {
  const expected = caseNames(run.config);
  t.equal(expected.length, expectedCount, `the shipped file has ${expectedCount} cases`);
  t.equal(run.cases.length, expected.length, `ocft reported every case\n${run.output}`);
  for (const [index, name] of expected.entries()) {
    const result = run.cases[index];
    t.equal(result?.name, name, `case ${index} is "${name}"`);
    const reason = notApplicable[index];
    if (reason) t.notOk(result?.ok, `case ${index} "${name}" does not apply: ${reason}`);
    else t.ok(result?.ok, `case ${index} "${name}" passes${result?.detail ? `: ${result.detail}` : ''}`);
  }
  return run.cases;
}
