import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { agentsDirWith, ipBinds } from './old-tools.ts';

/** Project root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Where the built agents are: HA_AGENTS_DIR, else dist/resource.d (built by
 * `npm run build`, which `npm test` runs first). Tests exercise the shipped
 * executable, not the TypeScript sources.
 */
export const AGENTS_DIR = process.env.HARA_IP_UNDER_TEST ? agentsWithOldIp(process.env.HARA_IP_UNDER_TEST) : (process.env.HA_AGENTS_DIR ?? resolve(ROOT, 'dist/resource.d'));

/**
 * HARA_IP_UNDER_TEST=/tmp/old-ip/ip-4.9.0: every agent these tests run
 * (IPaddr, ha-agent ...) gets that ip bound over /usr/bin/ip in a mount
 * namespace of its own (test/rig/old-tools.ts); the tests' rig keeps this
 * machine's ip. How the README's old-ip runs were made.
 */
function agentsWithOldIp(ip: string): string {
  const dir = mkdtempSync(`${tmpdir()}/hara-old-ip-`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return agentsDirWith(dir, ipBinds(resolve(ip)));
}

export const agentPath = (name: string) => `${AGENTS_DIR}/${name}`;

export interface AgentRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunAgentOptions {
  env?: Record<string, string>;
  netns?: string;
  timeoutMs?: number;
  input?: string;
  /** A command the agent runs under, its argv before the agent's (e.g. test/rig/old-kernel.ts's underKernel). */
  wrap?: readonly string[];
}

/**
 * Runs a built agent. `netns` runs it inside that network namespace
 * (ip netns exec), the only way tests touch addresses. `env` is added to a
 * minimal environment: tests control HA_* and OCF_* fully.
 */
export async function runAgent(name: string, args: readonly string[], options: RunAgentOptions = {}): Promise<AgentRun> {
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...options.env };
  const command = [...(options.wrap ?? []), agentPath(name), ...args];
  const [file, argv] = options.netns ? ['ip', ['netns', 'exec', options.netns, ...command]] : [command[0]!, command.slice(1)];
  const result = await execa(file, argv as string[], {
    env,
    extendEnv: false,
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    input: options.input,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** OCF form: parameters as OCF_RESKEY_*. */
export function runOcf(name: string, action: string, params: Record<string, string>, options: Omit<RunAgentOptions, 'input'> = {}) {
  const env: Record<string, string> = { OCF_ROOT: '/usr/lib/ocf', ...options.env };
  for (const [key, value] of Object.entries(params)) env[`OCF_RESKEY_${key}`] = value;
  return runAgent(name, [action], { ...options, env });
}
