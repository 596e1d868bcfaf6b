// Timing and statistics helpers for the bench (not part of the agents).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stats(samples: number[]): Stats | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, median, min: sorted[0]!, max: sorted.at(-1)!, samples };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs a command (argument array, no shell) and times it from spawn to exit.
 * With `captureDir`, stdout and stderr go to files there rather than pipes,
 * the way ResourceManager runs agents (output appended to HA_DEBUGLOG): a
 * background child that inherits them (stock IPaddr's send_arp) then does
 * not hold the timing open after the agent itself has exited.
 */
export function runTimed(cmd: string, args: readonly string[], options: SpawnSyncOptions & { captureDir?: string } = {}): Ran {
  const { captureDir, ...spawnOptions } = options;
  if (captureDir) {
    const outPath = `${captureDir}/run.${process.pid}.out`;
    const errPath = `${captureDir}/run.${process.pid}.err`;
    const out = openSync(outPath, 'w');
    const err = openSync(errPath, 'w');
    try {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(cmd, args as string[], { timeout: 180_000, ...spawnOptions, stdio: ['ignore', out, err] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return { code: r.status ?? (r.signal ? 128 : -1), stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') + (r.error ? String(r.error) : ''), ms };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000, ...spawnOptions });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { code: r.status ?? (r.signal ? 128 : -1), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : ''), ms };
}

/** Runs a setup/check command; throws with its output when it fails and `allowFailure` is not set. */
export function sh(cmd: string, args: readonly string[], options: SpawnSyncOptions & { allowFailure?: boolean } = {}): Ran {
  const r = runTimed(cmd, args, options);
  if (r.code !== 0 && !options.allowFailure) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return r;
}

/** Peak RSS (KiB) of one process tree's largest process, via GNU time (wait4 rusage). */
export function peakRssKiB(cmd: string, args: readonly string[], options: SpawnSyncOptions, scratch: string): number | undefined {
  const out = `${scratch}/time.${process.pid}.out`;
  rmSync(out, { force: true });
  runTimed('/usr/bin/time', ['-f', '%M', '-o', out, cmd, ...args], { ...options, captureDir: scratch });
  try {
    const kib = Number.parseInt(readFileSync(out, 'utf8').trim().split('\n').at(-1) ?? '', 10);
    return Number.isFinite(kib) ? kib : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whole-process timings with hyperfine, interleaved: `rounds` hyperfine calls
 * each running every command `runsPerRound` times, the command order flipped
 * every round, so drift (thermal, cache, a neighbour's load) hits all sides.
 * Returns milliseconds per command name.
 */
export function hyperfineInterleaved(
  commands: { name: string; argv: readonly string[] }[],
  options: { rounds: number; runsPerRound: number; env: NodeJS.ProcessEnv; scratch: string },
): Record<string, number[]> {
  const times: Record<string, number[]> = Object.fromEntries(commands.map((c) => [c.name, []]));
  if (commands.length === 0) return times;
  for (let round = 0; round < options.rounds; round++) {
    const ordered = round % 2 ? [...commands].reverse() : commands;
    const json = `${options.scratch}/hyperfine.${process.pid}.json`;
    rmSync(json, { force: true });
    const args = ['-N', '--ignore-failure', '--style', 'none', '--runs', String(options.runsPerRound), '--warmup', round === 0 ? '2' : '0', '--export-json', json];
    for (const c of ordered) args.push('-n', c.name, c.argv.map(shellWord).join(' '));
    sh('hyperfine', args, { env: options.env });
    const result = JSON.parse(readFileSync(json, 'utf8')) as { results: { command: string; times: number[] }[] };
    for (const r of result.results) times[r.command]!.push(...r.times.map((s) => s * 1000));
  }
  return times;
}

/** hyperfine -N splits its command with shell-words rules. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
