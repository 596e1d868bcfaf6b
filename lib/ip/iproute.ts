import { CommandFailedError } from '../contract/errors.ts';
import { run } from '../system/exec.ts';
import { log } from '../system/log.ts';
import { recallDialect, rememberDialect, toolIdentity } from '../system/tool-memory.ts';

// `ip` listings in JSON where ip has it, in text where it does not, decided
// from ip's own answer, never from the OS name. The common path (iproute2
// 4.14 or later) is one `ip -j` process, as before. ip before 4.14 (CentOS
// 7's 3.10 / 4.11, Debian 9's 4.9) refuses -j with exit 255; then the same
// listing is asked for in plain text, and the refusal is remembered for
// that binary (lib/system/tool-memory.ts) so later cold calls go straight
// to text. The callers parse with iproute-text.ts's parse*Output, which
// also reads the text ip 4.14-4.16 give for `-j route` / `-j neigh`.

/** What ip before 4.14 answers to -j, with exit 255. */
export const NO_JSON_ANSWER = /Option "-j(?:son)?" is unknown/;

const MEMORY_KEY = 'ip-dialect';

export interface IpListOptions {
  timeoutMs?: number;
  /** Return ip's stdout even when it fails (an empty listing), instead of throwing. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** stdout of `ip -j ARGS`, or of `ip ARGS` when this ip has no JSON. */
export async function ipList(args: readonly string[], { timeoutMs = 5000, allowFailure = false, env = process.env }: IpListOptions = {}): Promise<string> {
  const identity = toolIdentity('ip', env);
  if (recallDialect(env, MEMORY_KEY, identity) === 'text') return (await run('ip', args, { timeoutMs, allowFailure })).stdout;
  const json = await run('ip', ['-j', ...args], { timeoutMs, allowFailure: true });
  if (json.exitCode === 0) return json.stdout;
  if (json.exitCode === 255 && NO_JSON_ANSWER.test(json.stderr)) {
    log.debug(`ip has no JSON output (${json.stderr.trim()}): reading its text from now on`);
    rememberDialect(env, MEMORY_KEY, identity, 'text');
    return (await run('ip', args, { timeoutMs, allowFailure })).stdout;
  }
  if (allowFailure) return json.stdout;
  throw new CommandFailedError('ip', json.args, json.exitCode, undefined, json.stderr);
}
