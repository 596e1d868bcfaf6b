import type { AgentContext, AgentDefinition, Mode, Params } from './agent.ts';
import { AgentError, PermissionError, UsageError } from './errors.ts';
import { LSB_STATUS, OCF } from './exit-codes.ts';
import { acquireResourceLock } from '../system/lock.ts';
import { log } from '../system/log.ts';
import { helpText, metadataXml } from './metadata.ts';
import { paramsFromOcfEnv, paramsFromV1Args, quote, resolveParams } from './params.ts';
import { statusLine } from './status-text.ts';
import { writeStderr, writeStdout } from '../system/stdio.ts';

export interface AgentIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: AgentIo = {
  stdout: writeStdout,
  stderr: writeStderr,
};

const V1_ACTIONS = ['start', 'stop', 'status', 'monitor', 'validate-all'];
const OCF_ACTIONS = ['start', 'stop', 'monitor', 'status', 'validate-all'];
const LOCKED_ACTIONS = ['start', 'stop', 'status', 'monitor'];

/**
 * OCF mode when the caller speaks OCF: a lone action with OCF_RESKEY_* (or
 * Pacemaker's OCF_RESOURCE_INSTANCE) in the environment. Heartbeat v1 passes
 * positional arguments and no OCF_RESKEY_*. Both modes print the same status
 * text, so a bare `mysqld status` reads the same either way.
 */
export function detectMode(args: readonly string[], env: NodeJS.ProcessEnv): Mode {
  if (args.length > 0) return 'v1';
  const speaksOcf = Object.keys(env).some((k) => k.startsWith('OCF_RESKEY_')) || !!env.OCF_RESOURCE_INSTANCE || !!env.OCF_RESOURCE_TYPE;
  return speaksOcf ? 'ocf' : 'v1';
}

function usage(definition: AgentDefinition): string {
  return `usage: ${definition.name} ${definition.v1Synopsis} {start|stop|status}  (heartbeat v1)\n` +
    `       ${definition.name} {start|stop|monitor|status|meta-data|validate-all}  (OCF, parameters in OCF_RESKEY_*)\n` +
    `       ${definition.name} --help\n`;
}

const MAX_ACTION_TIMEOUT_MS = 24 * 3600 * 1000;

function actionTimeoutMs(definition: AgentDefinition, action: string, env: NodeJS.ProcessEnv): number {
  const fromCrm = Number.parseInt(env.OCF_RESKEY_CRM_meta_timeout ?? '', 10);
  // At most a day: a timer beyond 2^31 ms fires at once (Node and Bun clamp it to 1 ms), so every command "timed out".
  if (fromCrm > 0) return Math.min(fromCrm, MAX_ACTION_TIMEOUT_MS);
  const t = definition.timeouts;
  const seconds = action === 'start' ? t.start : action === 'stop' ? t.stop : t.monitor;
  return seconds * 1000;
}

/** Runs one agent call. Returns the exit code; never throws. */
export async function runAgent(definition: AgentDefinition, argv: readonly string[], env: NodeJS.ProcessEnv = process.env, io: AgentIo = processIo): Promise<number> {
  log.configure({ name: definition.name, env });
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(helpText(definition));
    return 0;
  }
  const action = argv.at(-1);
  const args = argv.slice(0, -1);
  if (action === 'meta-data') {
    io.stdout(metadataXml(definition));
    return OCF.SUCCESS;
  }
  if (action === 'usage' || action === 'help') {
    io.stdout(usage(definition));
    return OCF.SUCCESS;
  }
  const mode = detectMode(args, env);
  if (action === undefined || !(mode === 'ocf' ? OCF_ACTIONS : V1_ACTIONS).includes(action)) {
    io.stderr(`${definition.name}: ${action === undefined ? 'no action given' : `unknown action ${quote(action)}`}\n${usage(definition)}`);
    // OCF: an action we do not implement; LSB: an invalid argument.
    return mode === 'ocf' ? OCF.ERR_UNIMPLEMENTED : OCF.ERR_ARGS;
  }
  const isStatus = action === 'status' || action === 'monitor';
  // Debug only (HA_debug): the timeline of one call, from the runtime's own start-up on.
  log.debug(`${action}: begins ${Math.round(Date.now() - performance.timeOrigin)} ms after the process started`);
  const code = await runAction(definition, mode, action, args, isStatus, env, io);
  log.debug(`${action}: exit ${code} after ${Math.round(Date.now() - performance.timeOrigin)} ms`);
  return code;
}

async function runAction(definition: AgentDefinition, mode: Mode, action: string, args: readonly string[], isStatus: boolean, env: NodeJS.ProcessEnv, io: AgentIo): Promise<number> {
  try {
    const given = mode === 'ocf' ? paramsFromOcfEnv(definition, env) : paramsFromV1Args(definition, args);
    const params: Params = resolveParams(definition, given);
    const timeoutMs = actionTimeoutMs(definition, action, env);
    const started = Date.now();
    const ctx: AgentContext = {
      params,
      mode,
      action,
      timeoutMs,
      // Finish (or fail with our own words) before the caller's timer kills us.
      deadline: started + Math.max(timeoutMs - Math.min(2000, timeoutMs * 0.1), 100),
      checkLevel: Number.parseInt(env.OCF_CHECK_LEVEL ?? '0', 10) || 0,
      isProbe: action === 'monitor' && (env.OCF_RESKEY_CRM_meta_interval ?? '0') === '0',
      env,
    };
    const lock = LOCKED_ACTIONS.includes(action)
      ? await acquireResourceLock(env, definition.name, definition.lockKey(params), ctx.deadline, { readOnly: isStatus, awayFrom: definition.lockAwayFrom?.(params) })
      : undefined;
    try {
      await definition.validate?.(ctx);
      if (action === 'validate-all') return OCF.SUCCESS;
      if (action === 'start') {
        await definition.start(ctx);
        return OCF.SUCCESS;
      }
      if (action === 'stop') {
        await definition.stop(ctx);
        return OCF.SUCCESS;
      }
      const status = await definition.status(ctx);
      if (status.held && mode === 'ocf' && action === 'monitor' && ctx.checkLevel >= 10) await definition.deepCheck?.(ctx);
      if (action === 'status') io.stdout(`${statusLine(status.held, status.detail)}\n`);
      if (mode === 'v1') return status.held ? LSB_STATUS.RUNNING : LSB_STATUS.STOPPED;
      return status.held ? OCF.SUCCESS : OCF.NOT_RUNNING;
    } finally {
      lock?.release();
    }
  } catch (error) {
    return reportFailure(definition, mode, isStatus, error, io);
  }
}

/** EACCES/EPERM from a file or process the caller may not touch: an expected condition for a non-root caller, not an internal error. */
function permissionProblem(error: unknown): PermissionError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof AgentError || (code !== 'EACCES' && code !== 'EPERM')) return undefined;
  const path = (error as NodeJS.ErrnoException).path;
  return new PermissionError(`needs root: permission denied${path ? ` on ${path}` : ''} (${code})`);
}

function reportFailure(definition: AgentDefinition, mode: Mode, isStatus: boolean, thrown: unknown, io: AgentIo): number {
  const error = permissionProblem(thrown) ?? thrown;
  const known = error instanceof AgentError;
  const raw = known ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`;
  // One line, whatever a value or a tool's stderr held: control characters escaped (an ESC would rewrite the terminal).
  const message = raw.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => quote(c).slice(1, -1));
  if (!known && error instanceof Error && error.stack) log.debug(error.stack);
  if (mode === 'ocf') io.stderr(`ocf-exit-reason:${message}\n`);
  else io.stderr(`${definition.name}: ${message}\n`);
  // Already on stderr: the log files get it, stderr does not get it twice.
  log.error(message, { ignoreStderr: true });
  const code = known ? error.exitCode : OCF.ERR_GENERIC;
  if (mode === 'v1' && isStatus && !(error instanceof UsageError) && code === OCF.ERR_GENERIC) return LSB_STATUS.UNKNOWN;
  return code;
}
