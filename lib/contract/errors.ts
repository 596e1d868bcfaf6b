import { OCF, type OcfCodeName } from './exit-codes.ts';

/**
 * Every failure an agent reports is one of these. The class names the kind;
 * `ocfCode` is what both OCF and v1 callers get as exit status (the LSB
 * numbers for start/stop are the same as OCF's). `message` is the one line a
 * person reads, without the agent's name (the dispatcher adds it).
 */
export class AgentError extends Error {
  readonly ocfCode: OcfCodeName = 'ERR_GENERIC';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
  get exitCode(): number {
    return OCF[this.ocfCode];
  }
}

/** Wrong number of arguments or an unknown action. */
export class UsageError extends AgentError {
  override readonly ocfCode = 'ERR_ARGS' as const;
}

/** An action this agent does not implement. */
export class UnimplementedError extends AgentError {
  override readonly ocfCode = 'ERR_UNIMPLEMENTED' as const;
}

/** A parameter that is missing, malformed or contradicts the system (bad IP, relative path, unknown nic). */
export class InvalidParameterError extends AgentError {
  override readonly ocfCode = 'ERR_CONFIGURED' as const;
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** A program or kernel feature the agent needs is not on this host. */
export class NotInstalledError extends AgentError {
  override readonly ocfCode = 'ERR_INSTALLED' as const;
}

export class PermissionError extends AgentError {
  override readonly ocfCode = 'ERR_PERM' as const;
}

/** The agent would not do it because doing it could lose data or cause a conflict. */
export class RefusedError extends AgentError {
  override readonly ocfCode = 'ERR_GENERIC' as const;
}

/** A command the agent ran exited non-zero (or died by a signal). */
export class CommandFailedError extends AgentError {
  override readonly ocfCode = 'ERR_GENERIC' as const;
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode_: number | undefined,
    readonly signal: string | undefined,
    readonly stderr: string,
    message?: string,
  ) {
    super(message ?? CommandFailedError.describe(command, args, exitCode_, signal, stderr));
  }
  static describe(command: string, args: readonly string[], code: number | undefined, signal: string | undefined, stderr: string): string {
    const how = signal ? `was killed by ${signal}` : `exited ${code}`;
    const firstLine = stderr.trim().split('\n').filter(Boolean).pop();
    return `${[command, ...args].join(' ')} ${how}${firstLine ? `: ${firstLine}` : ''}`;
  }
}

/** Waiting for something ran out of time. */
export class TimeoutError extends AgentError {
  override readonly ocfCode = 'ERR_GENERIC' as const;
}

/** Anything else that went wrong (the resource is in a state we cannot fix). */
export class GenericError extends AgentError {
  override readonly ocfCode = 'ERR_GENERIC' as const;
}
