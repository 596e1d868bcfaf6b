import { constants, accessSync, statSync } from 'node:fs';
import { run } from '../system/exec.ts';
import { groupForKey, type Haresources, type HaresourcesGroup, type HaresourcesResource } from './haresources.ts';

// `ha-agent status`: each resource's `status` called exactly as
// ResourceManager's we_own_resource calls it (resource.d/NAME, else
// /etc/init.d/NAME, with the :: arguments), its answer read as it reads it
// (text, not exit code), and the group verdict as StatGroup says it.

export type ResourceState = 'held' | 'released' | 'unknown';
export type Verdict = 'ALL' | 'SOME' | 'NONE';

export interface ResourceStatus {
  resource: string;
  line: number;
  /** The script run, or undefined when ResourceManager would find none. */
  path?: string;
  args: string[];
  state: ResourceState;
  detail: string;
  exitCode: number | null;
  ms: number;
}

export interface GroupStatus {
  node: string;
  line: number;
  /** The group's first resource: the key takegroup/statgroup use. */
  key: string;
  verdict: Verdict;
  resources: ResourceStatus[];
}

/**
 * we_own_resource's case: `*[Nn][Oo][Tt]\ *[Rr]unning*` → not held;
 * `*[Rr]unning*|*OK*` → held; anything else → not held. The text decides,
 * as for ResourceManager. An answer the text does not settle is "released"
 * when the exit code agrees (LSB 1-3: stopped, like our "stopped (...)"),
 * else "unknown" (exit 0 without a running text, LSB 4, a crash): still
 * counted as not held, as ResourceManager counts it.
 */
export function readStatusAnswer(stdout: string, exitCode: number): ResourceState {
  if (/[Nn][Oo][Tt] [\s\S]*[Rr]unning/.test(stdout)) return 'released';
  if (/[Rr]unning|OK/.test(stdout)) return 'held';
  return exitCode >= 1 && exitCode <= 3 ? 'released' : 'unknown';
}

/** StatGroup: ALL when every resource is held, NONE when none is (or the group is empty), else SOME. Unknown counts as not held. */
export function statgroupVerdict(states: readonly ResourceState[]): Verdict {
  if (!states.length) return 'NONE';
  const held = states.filter((s) => s === 'held').length;
  return held === states.length ? 'ALL' : held === 0 ? 'NONE' : 'SOME';
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** ResourceManager's scriptpath: HA_RESOURCEDIR, then /etc/init.d; a regular executable file. */
export function scriptPath(script: string, resourceDir: string, initDir = '/etc/init.d'): string | undefined {
  return [`${resourceDir}/${script}`, `${initDir}/${script}`].find(executable);
}

export interface StatusOptions {
  haDir: string;
  env: NodeJS.ProcessEnv;
  /** Per-call bound (ms). */
  timeoutMs?: number;
  /**
   * Answers a status call without a new process when the script is this
   * executable (our agents: the same code the link would run), for a caller
   * that asks every second (`ha-agent watch`); undefined: run the script.
   */
  inProcess?: (script: string, path: string, args: readonly string[], env: Record<string, string>) => Promise<{ stdout: string; stderr: string; exitCode: number } | undefined>;
}

export async function resourceStatus(resource: HaresourcesResource, options: StatusOptions): Promise<ResourceStatus> {
  const resourceDir = options.env.HA_RESOURCEDIR || `${options.haDir}/resource.d`;
  const path = scriptPath(resource.script, resourceDir);
  const base = { resource: resource.text, line: resource.line, path, args: resource.args };
  if (!path) return { ...base, state: 'unknown', detail: `no executable ${resource.script} in ${resourceDir} or /etc/init.d`, exitCode: null, ms: 0 };
  const started = process.hrtime.bigint();
  // The environment ResourceManager gives its scripts (it exports these from shellfuncs).
  const env = { HA_DIR: options.haDir, HA_RESOURCEDIR: resourceDir, HA_FUNCS: `${options.haDir}/shellfuncs` };
  const result = (await options.inProcess?.(resource.script, path, resource.args, env).catch(() => undefined))
    ?? await run(path, [...resource.args, 'status'], { allowFailure: true, timeoutMs: options.timeoutMs ?? 60_000, env }).catch((error: Error) => ({
      stdout: '', stderr: error.message, exitCode: -1,
    }));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const firstLine = (text: string) => text.trim().split('\n').find((l) => l.trim())?.trim() ?? '';
  const detail = firstLine(result.stdout) || firstLine(result.stderr) || `no output, exit ${result.exitCode}`;
  return { ...base, state: readStatusAnswer(result.stdout, result.exitCode), detail, exitCode: result.exitCode, ms: Math.round(ms) };
}

/** Status of the group whose first resource is `group`'s, resolved as statgroup KEY resolves it; resources one after another, left to right. */
export async function groupStatus(parsed: Haresources, group: HaresourcesGroup, options: StatusOptions): Promise<GroupStatus> {
  const key = group.resources[0]?.text ?? '';
  const { resources } = key ? groupForKey(parsed, key) : { resources: [] };
  const rows: ResourceStatus[] = [];
  for (const r of resources) rows.push(await resourceStatus(r, options));
  return { node: group.node, line: group.line, key, verdict: statgroupVerdict(rows.map((r) => r.state)), resources: rows };
}
