import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { lockDirectory } from './lock.ts';

// What a tool turned out to speak (ip without JSON, iputils' arping),
// remembered across the agents' cold processes: learnt once from the tool's
// own answer, kept in a small file under HA_RSCTMP keyed by the binary's
// identity, so a changed binary (an upgrade, a bind mount) is asked afresh.
// Only the unusual dialect is ever written: on the common path this costs a
// few stat(2) calls and one failed open, never a process.

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The binary `name` resolves to on PATH, as "path dev ino mtime size" of
 * the file it finally names (symlinks followed), or undefined when none.
 */
export function toolIdentity(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH || DEFAULT_PATH).split(':')) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const st = statSync(path);
      if (!st.isFile() || (st.mode & 0o111) === 0) continue;
      return `${path} ${st.dev} ${st.ino} ${Math.trunc(st.mtimeMs)} ${st.size}`;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

const memoryPath = (env: NodeJS.ProcessEnv, key: string) => `${lockDirectory(env)}/tool-${key}`;

/** The dialect remembered for `key` when it was learnt from this very binary, else undefined. */
export function recallDialect(env: NodeJS.ProcessEnv, key: string, identity: string | undefined): string | undefined {
  if (!identity) return undefined;
  try {
    const [who, dialect] = readFileSync(memoryPath(env, key), 'utf8').split('\n');
    return who === identity && dialect ? dialect : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort (status may run without write access): forgetting only costs one more probe later. */
export function rememberDialect(env: NodeJS.ProcessEnv, key: string, identity: string | undefined, dialect: string): void {
  if (!identity) return;
  const path = memoryPath(env, key);
  try {
    mkdirSync(lockDirectory(env), { recursive: true, mode: 0o755 });
    const temporary = `${path}.${process.pid}`;
    writeFileSync(temporary, `${identity}\n${dialect}\n`);
    renameSync(temporary, path);
  } catch {
    // Read-only or missing directory: ask the tool again next time.
  }
}
