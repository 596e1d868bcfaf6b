import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import type { Test } from 'tap';
import { OCF, LSB_STATUS } from '../../lib/contract/exit-codes.ts';
import { resourceManagerReadsAsHeld } from '../../lib/contract/status-text.ts';
import type { AgentDefinition } from '../../lib/contract/agent.ts';
import { agentPath } from '../rig/agents.ts';
import type { FuzzCase, Template } from './generators.ts';

// Runs generated cases against the built executable (dist/resource.d) and
// checks what every call must satisfy, whatever the input:
//   - the exit code is one the README and lib/contract/exit-codes.ts document for
//     that mode and action;
//   - stdout and stderr are at most 3 lines each (a usage block on stderr
//     not counted), a failure says something, no "internal error", no
//     stack trace; status text reads to ResourceManager as the exit says;
//   - a present but empty v1 argument is refused (2 or 6) where the agent
//     takes positional parameters by the table;
//   - the call finishes within 2 s;
//   - the node is as before (the rig's snapshot: addresses, mounts, DRBD
//     roles, processes), except after a start that succeeded and changed
//     it: then a stop with the same input must succeed and bring the node
//     back exactly (a valid start legitimately changes the node; that is
//     the one change we allow, and we check it is undone by its stop).

export const CALL_LIMIT_MS = 2000;
/** The status and stop that check a successful start are not the case under test: a hang, not a slow machine. */
export const FOLLOW_UP_LIMIT_MS = 5000;

/** One worker's rig: where its cases run and how to read the node's state. */
export interface WorkerRig {
  /** {{name}} placeholders → text. */
  atoms: Record<string, string>;
  /** Fixed environment (HA_RSCTMP, HA_LOGFILE, DRBDADM ...). */
  env: Record<string, string>;
  /** Network namespace to run in (nsenter --net, no mount namespace: `ip netns exec` would make one per call). */
  netns?: string;
  /** The node state that no failed or read-only call may change, as comparable text. */
  snapshot(): Promise<string>;
  /** Puts the node back after a failed case, so one failure does not cascade into every later case. */
  restore?(): Promise<void>;
  /**
   * The rig holds some resources from the start (a VIP, a Primary), so a valid stop legitimately
   * releases them: true when every difference between the snapshots is such a release. The rig is
   * then restored. Without it, a stop must change nothing either.
   */
  released?(before: string, after: string): boolean;
  /** The part of a snapshot that does not change by itself while a resource is held (IPaddr: not the announcer, which ends on its own). */
  withoutTransient?(snapshot: string): string;
  /** The snapshot after this worker's last case: nothing else changes its rig, so it is the next case's "before". */
  last?: string;
}

export interface CallResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Replaces {{name}} by the rig's text and {{xHH}} by a raw byte. */
export function resolveTemplate(template: Template, atoms: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{\{(x[0-9a-f]{2}|[a-z][a-z0-9]*)\}\}/g)) {
    parts.push(Buffer.from(template.slice(last, m.index), 'utf8'));
    const name = m[1]!;
    if (/^x[0-9a-f]{2}$/.test(name)) parts.push(Buffer.from([Number.parseInt(name.slice(1), 16)]));
    else parts.push(Buffer.from(atoms[name] ?? m[0], 'utf8'));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(template.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

// Node's spawn takes strings and encodes them as UTF-8, so invalid UTF-8
// cannot go through it. Perl can: it gets every argv and environment entry
// hex-encoded, decodes them to bytes and execs the agent with exactly
// those (perl-base is in every Debian).
const EXEC_BYTES = 'my $n = shift; my @v = map { pack "H*", $_ } @ARGV; my @e = splice(@v, 0, $n); %ENV = (); for (@e) { my ($k, $x) = split /=/, $_, 2; $ENV{$k} = $x } exec { $v[0] } @v or die "exec: $!"';

/** Runs argv with env (both raw bytes), in the rig's network namespace. */
export function runBytes(argv: Buffer[], env: [string, Buffer][], rig: WorkerRig, timeoutMs = 10_000): Promise<CallResult> {
  const prefix = rig.netns ? ['nsenter', `--net=/run/netns/${rig.netns}`] : [];
  const raw = argv.some((a) => !isUtf8(a)) || env.some(([, v]) => !isUtf8(v));
  let file: string;
  let args: string[];
  let spawnEnv: Record<string, string>;
  if (raw) {
    const hexEnv = env.map(([k, v]) => Buffer.concat([Buffer.from(`${k}=`), v]).toString('hex'));
    file = 'perl';
    args = ['-e', EXEC_BYTES, String(hexEnv.length), ...hexEnv, ...[...prefix.map((p) => Buffer.from(p)), ...argv].map((a) => a.toString('hex'))];
    spawnEnv = {};
  } else {
    const all = [...prefix, ...argv.map((a) => a.toString('utf8'))];
    file = all[0]!;
    args = all.slice(1);
    spawnEnv = Object.fromEntries(env.map(([k, v]) => [k, v.toString('utf8')]));
  }
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env: spawnEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - started });
    });
  });
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The argv and environment a case stands for on this rig, with `action` replacing the case's own. */
export function materialise(definition: AgentDefinition, c: FuzzCase, rig: WorkerRig, action?: Template): { argv: Buffer[]; env: [string, Buffer][] } {
  const res = (t: Template) => resolveTemplate(t, rig.atoms);
  const env: [string, Buffer][] = [['PATH', Buffer.from(PATH)], ...Object.entries(rig.env).map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer])];
  const argv: Buffer[] = [Buffer.from(agentPath(definition.name))];
  if (c.mode === 'v1') argv.push(...c.args.map(res));
  else for (const [k, v] of Object.entries(c.env)) env.push([k, res(v)]);
  argv.push(res(action ?? c.action));
  return { argv, env };
}

/** The mode the README's rule gives: OCF when no positional argument and OCF_RESKEY_* or OCF_RESOURCE_INSTANCE is set. */
export function effectiveMode(c: FuzzCase): 'v1' | 'ocf' {
  if (c.mode === 'v1') return 'v1';
  return Object.keys(c.env).some((k) => k.startsWith('OCF_RESKEY_') || k === 'OCF_RESOURCE_INSTANCE') ? 'ocf' : 'v1';
}

const INFORMATIONAL = ['meta-data', 'usage', 'help'];

/** Exit codes the documentation allows for this mode and action. */
export function allowedExitCodes(mode: 'v1' | 'ocf', action: string, argv: readonly string[]): number[] {
  const failures = [OCF.ERR_GENERIC, OCF.ERR_ARGS, OCF.ERR_PERM, OCF.ERR_INSTALLED, OCF.ERR_CONFIGURED];
  if (argv.includes('--help') || argv.includes('-h') || INFORMATIONAL.includes(action)) return [OCF.SUCCESS];
  const known = mode === 'ocf' ? ['start', 'stop', 'monitor', 'status', 'validate-all'] : ['start', 'stop', 'status', 'monitor', 'validate-all'];
  // Unknown action: LSB's "invalid argument" (2); OCF's "unimplemented" (3).
  if (!known.includes(action)) return [mode === 'ocf' ? OCF.ERR_UNIMPLEMENTED : OCF.ERR_ARGS];
  if (action === 'status' || action === 'monitor') {
    // LSB status: 0 running, 3 stopped, 4 unknown, never 1 (that means "dead, pid file left"); 2/5/6 for bad input.
    if (mode === 'v1') return [LSB_STATUS.RUNNING, LSB_STATUS.STOPPED, LSB_STATUS.UNKNOWN, OCF.ERR_ARGS, OCF.ERR_INSTALLED, OCF.ERR_CONFIGURED];
    return [OCF.SUCCESS, OCF.NOT_RUNNING, ...failures];
  }
  return [OCF.SUCCESS, ...failures];
}

/** stderr without the usage block (usage: line and the indented lines after it). */
export function withoutUsage(stderr: string): string[] {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  const at = lines.findIndex((l) => /^usage: /.test(l));
  if (at < 0) return lines;
  let end = at + 1;
  while (end < lines.length && /^ {3,}/.test(lines[end]!)) end++;
  return [...lines.slice(0, at), ...lines.slice(end)];
}

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** What is wrong with one call's result ([] when nothing). */
export function judge(definition: AgentDefinition, c: FuzzCase, argvText: string[], result: CallResult): string[] {
  const problems: string[] = [];
  const mode = effectiveMode(c);
  const action = argvText.at(-1) ?? '';
  const allowed = allowedExitCodes(mode, action, argvText.slice(1));
  if (result.exitCode === null) problems.push(`killed by ${result.signal} after ${Math.round(result.ms)} ms`);
  else if (!allowed.includes(result.exitCode)) problems.push(`exit ${result.exitCode}, documented for ${mode} ${JSON.stringify(action)}: ${allowed.join(', ')}`);
  const both = `${result.stdout}\n${result.stderr}`;
  if (/internal error/i.test(both)) problems.push('says "internal error"');
  if (STACK.test(both)) problems.push('prints a stack trace');
  // A value's control characters must not reach the operator's terminal or the log raw (ESC sequences, a CR that hides the line).
  const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(both);
  if (control) problems.push(`prints the control character ${JSON.stringify(control[0])}`);
  const informational = allowed.length === 1 && allowed[0] === OCF.SUCCESS;
  if (!informational) {
    const errLines = withoutUsage(result.stderr);
    if (errLines.length > 3) problems.push(`${errLines.length} lines on stderr besides usage`);
    const outLines = result.stdout.split('\n').filter((l) => l.trim() !== '');
    if (outLines.length > 3) problems.push(`${outLines.length} lines on stdout`);
    const quiet = result.exitCode === 0 || ((action === 'status' || action === 'monitor') && result.exitCode === (mode === 'v1' ? LSB_STATUS.STOPPED : OCF.NOT_RUNNING));
    if (!quiet && errLines.length === 0) problems.push(`exit ${result.exitCode} with nothing on stderr`);
    if (action === 'status' && (result.exitCode === 0 || result.exitCode === 3)) {
      const held = result.exitCode === 0;
      if (resourceManagerReadsAsHeld(result.stdout) !== held) problems.push(`status exit ${result.exitCode} but ResourceManager reads ${JSON.stringify(result.stdout.trim())} as ${held ? 'not held' : 'held'}`);
    }
    // A stray `drbddisk::` in haresources gives an empty argument: it must never mean the default.
    if (c.mode === 'v1' && result.exitCode !== null && ![OCF.ERR_ARGS, OCF.ERR_CONFIGURED].includes(result.exitCode as 2 | 6)) {
      const positional = definition.params.filter((p) => p.v1 !== undefined);
      const empty = argvText.slice(1, -1).map((a, i) => (a === '' ? i : -1)).filter((i) => i >= 0);
      const mustRefuse = empty.filter((i) => !definition.parseV1 || positional.some((p) => p.v1 === i && p.required));
      if (mustRefuse.length) problems.push(`empty argument ${mustRefuse[0]! + 1} accepted (exit ${result.exitCode})`);
    }
  }
  return problems;
}

export interface CaseOutcome {
  problems: string[];
  result: CallResult;
}

/** Runs one case on one worker rig: the call, the checks, the node before and after. */
export async function runCase(definition: AgentDefinition, c: FuzzCase, rig: WorkerRig): Promise<CaseOutcome> {
  const before = rig.last ?? (await rig.snapshot());
  const { argv, env } = materialise(definition, c, rig);
  const result = await runBytes(argv, env, rig);
  const argvText = argv.map((a) => a.toString('utf8'));
  const problems = judge(definition, c, argvText, result);
  // A value that is not UTF-8 reaches the agent as U+FFFD: it could only act on another name than the one given.
  const paramBytes = c.mode === 'v1' ? argv.slice(1, -1) : env.filter(([k]) => definition.params.some((p) => k === `OCF_RESKEY_${p.name}`)).map(([, v]) => v);
  const action = argvText.at(-1) ?? '';
  const decides = allowedExitCodes(effectiveMode(c), action, argvText.slice(1)).length > 1;
  if (decides && paramBytes.some((b) => !isUtf8(b)) && ![OCF.ERR_ARGS, OCF.ERR_CONFIGURED].includes(result.exitCode as 2 | 6)) {
    problems.push(`a parameter that is not valid UTF-8 was accepted (exit ${result.exitCode})`);
  }
  let after = await rig.snapshot();
  if (result.ms > CALL_LIMIT_MS) {
    // Slow once can be the shared machine (other tests, other helpers); slow twice in a row is the agent.
    let again: CallResult | undefined;
    if (after === before) again = await runBytes(argv, env, rig);
    if (!again || again.ms > CALL_LIMIT_MS) problems.push(`took ${Math.round(result.ms)} ms${again ? ` and ${Math.round(again.ms)} ms again` : ''} (limit ${CALL_LIMIT_MS})`);
    after = await rig.snapshot();
  }
  if (after !== before && argvText.at(-1) === 'start' && result.exitCode === 0) {
    // Held now: a status (v1) or monitor (OCF, with the case's OCF_CHECK_LEVEL) must not say "not running".
    const query = effectiveMode(c) === 'ocf' ? 'monitor' : 'status';
    const asked = materialise(definition, c, rig, query);
    const answer = await runBytes(asked.argv, asked.env, rig);
    const notRunning = query === 'monitor' ? OCF.NOT_RUNNING : LSB_STATUS.STOPPED;
    if (answer.exitCode === notRunning) problems.push(`${query} right after a successful start says not running (exit ${answer.exitCode}): ${answer.stdout.trim()} ${answer.stderr.trim()}`);
    problems.push(...judge(definition, c, asked.argv.map((a) => a.toString('utf8')), answer).map((p) => `${query} after start: ${p}`));
    const afterQuery = await rig.snapshot();
    const steady = rig.withoutTransient ?? ((x: string) => x);
    if (steady(afterQuery) !== steady(after)) problems.push(`${query} after start changed the node:\n  before ${after}\n  after  ${afterQuery}`);
    const stop = materialise(definition, c, rig, 'stop');
    const stopped = await runBytes(stop.argv, stop.env, rig);
    if (stopped.exitCode !== 0) problems.push(`the stop after a successful start exited ${stopped.exitCode}: ${stopped.stderr.trim()}`);
    if (stopped.ms > FOLLOW_UP_LIMIT_MS) problems.push(`the stop after a successful start took ${Math.round(stopped.ms)} ms`);
    after = await rig.snapshot();
    if (after !== before) problems.push(`start then stop left the node changed:\n  before ${before}\n  after  ${after}`);
  } else if (after !== before && action === 'stop' && result.exitCode === 0 && rig.released?.(before, after)) {
    // A valid stop of a resource the rig holds: it released it and nothing else; put it back for the next case.
    await rig.restore?.();
    after = await rig.snapshot();
    if (after !== before) problems.push(`the rig could not be restored after a stop:\n  before ${before}\n  after  ${after}`);
  } else if (after !== before) {
    problems.push(`changed the node:\n  before ${before}\n  after  ${after}`);
  }
  if (problems.length && after !== before) {
    await rig.restore?.();
    after = await rig.snapshot();
  }
  rig.last = after;
  return { problems, result };
}

export function describeCase(c: FuzzCase): string {
  return c.mode === 'v1' ? `v1 ${JSON.stringify([...c.args, c.action])}` : `ocf ${JSON.stringify(c.env)} ${JSON.stringify(c.action)}`;
}

/** FUZZ_SEED picks the seed ("random" for a fresh one); CI uses a fixed one. */
export function fuzzSeed(fixed: number): number {
  const given = process.env.FUZZ_SEED;
  if (given === undefined || given === '') return fixed;
  if (given === 'random') return Math.floor(Math.random() * 0x7fffffff);
  const n = Number(given);
  if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer or "random", got ${JSON.stringify(given)}`);
  return n;
}

export interface FuzzOptions {
  /** Cases to run, at least (FUZZ_CASES overrides). */
  cases: number;
  seed: number;
  /** Bound on the whole run, ms (FUZZ_TIME_LIMIT_S overrides). */
  timeLimitMs: number;
}

/**
 * Runs `cases` generated cases, `rigs.length` at a time (one per worker
 * rig). Each fast-check run is a batch of one case per worker, so shrinking
 * keeps the concurrency and the failing case shrinks like any other.
 */
export async function fuzz(t: Test, definition: AgentDefinition, arbitrary: fc.Arbitrary<FuzzCase>, rigs: readonly WorkerRig[], options: FuzzOptions): Promise<void> {
  const cases = Number(process.env.FUZZ_CASES) || options.cases;
  const timeLimitMs = (Number(process.env.FUZZ_TIME_LIMIT_S) || options.timeLimitMs / 1000) * 1000;
  const width = rigs.length;
  const numRuns = Math.ceil(cases / width);
  let ran = 0;
  let slowest = 0;
  const tally = new Map<string, number>();
  const reasons = new Map<string, number>();
  const property = fc.asyncProperty(fc.array(arbitrary, { minLength: width, maxLength: width }), async (batch) => {
    const outcomes = await Promise.all(batch.map((c, i) => runCase(definition, c, rigs[i]!)));
    ran += batch.length;
    const failed: string[] = [];
    outcomes.forEach((o, i) => {
      slowest = Math.max(slowest, o.result.ms);
      const c = batch[i]!;
      const key = `${effectiveMode(c)} ${c.action.length > 14 ? 'other' : JSON.stringify(c.action)} → ${o.result.exitCode}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (process.env.FUZZ_VERBOSE) {
        const why = o.result.stderr.split('\n')[0]!.replace(/"[^"]*"/g, '"…"').slice(0, 90);
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
      if (o.problems.length) {
        failed.push(`${describeCase(batch[i]!)}\n    exit ${o.result.exitCode}, ${Math.round(o.result.ms)} ms\n    stdout ${JSON.stringify(o.result.stdout.slice(0, 500))}\n    stderr ${JSON.stringify(o.result.stderr.slice(0, 500))}\n    ${o.problems.join('\n    ')}`);
      }
    });
    if (failed.length) throw new Error(failed.join('\n'));
  });
  const started = Date.now();
  const details = await fc.check(property, { seed: options.seed, numRuns, interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: true, endOnFailure: false });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.comment(`${definition.name}: ${ran} cases (${details.numRuns} batches of ${width}, shrinking included) in ${seconds} s, seed ${options.seed}, slowest call ${Math.round(slowest)} ms`);
  // What the cases reached: a fuzzer whose cases all stop at the first check proves little.
  const printable = (text: string) => text.replace(/[^\n\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  t.comment(printable(`exit codes: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ')}`));
  if (reasons.size) t.comment(printable(`messages:\n${[...reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`).join('\n')}`));
  if (details.failed) {
    const how = details.interrupted ? `interrupted after ${timeLimitMs / 1000} s (FUZZ_TIME_LIMIT_S) with ${details.numRuns} of ${numRuns} batches run` : String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance);
    // The shrunk batch, one case per worker; the failing one says what is wrong. Keep it in regressions.ts.
    t.comment(`counterexample (seed ${options.seed}, path ${details.counterexamplePath ?? '-'}):\n${how}`);
    t.fail(`${definition.name} fuzz failed; rerun with FUZZ_SEED=${options.seed}: ${how.split('\n').slice(0, 2).join(' / ')}`);
  } else {
    t.ok(details.numRuns >= numRuns, `${definition.name}: ${details.numRuns * width} cases, all fine (seed ${options.seed})`);
  }
}

/** Runs named regression cases (shrunk counterexamples) on one rig, sequentially. */
export async function regressions(t: Test, definition: AgentDefinition, table: readonly { name: string; case: FuzzCase }[], rig: WorkerRig): Promise<void> {
  for (const row of table) {
    const outcome = await runCase(definition, row.case, rig);
    t.same(outcome.problems, [], `${definition.name} regression: ${row.name} (${describeCase(row.case)}) → exit ${outcome.result.exitCode}`);
  }
}
