import type { AgentDefinition, ParamSpec, Params } from './agent.ts';
import { InvalidParameterError, UsageError } from './errors.ts';

/** A value in double quotes with every control character escaped (JSON.stringify leaves DEL and C1 controls raw). */
export function quote(value: string): string {
  return JSON.stringify(value).replace(/[\x7f-\x9f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Characters a shell would act on. Values reach programs as argv, never a shell, but such a value is always a mistake or an attack. */
const SHELL_METACHARACTERS = /[;&|`$<>(){}!*?\\'"\n\r\t\0\[\]]/;

export function describeShellMetacharacter(value: string): string | undefined {
  const match = SHELL_METACHARACTERS.exec(value);
  if (!match) return undefined;
  const shown = quote(match[0]);
  return `contains the shell metacharacter ${shown}`;
}

/** OCF form: OCF_RESKEY_<name> from the environment. */
export function paramsFromOcfEnv(definition: AgentDefinition, env: NodeJS.ProcessEnv): Record<string, string> {
  const given: Record<string, string> = {};
  for (const spec of definition.params) {
    const value = env[`OCF_RESKEY_${spec.name}`];
    if (value !== undefined) given[spec.name] = value;
  }
  return given;
}

/** Heartbeat v1 form: positional arguments before the action. */
export function paramsFromV1Args(definition: AgentDefinition, args: readonly string[]): Record<string, string> {
  const positional = definition.params.filter((p) => p.v1 !== undefined).sort((a, b) => a.v1! - b.v1!);
  // A stray "::" in haresources gives an empty argument. Present but empty is a mistake, never
  // "not given": drbddisk '' would otherwise fall back to its default, all resources.
  const empty = args.indexOf('');
  if (empty >= 0) {
    const spec = positional[empty];
    const name = spec?.name ?? `argument ${empty + 1}`;
    throw new InvalidParameterError(name, `argument ${empty + 1}${spec ? ` (${spec.name})` : ''} is empty (a stray "::" in haresources?); nothing done`);
  }
  if (definition.parseV1) return definition.parseV1(args);
  if (args.length > positional.length) {
    throw new UsageError(`too many arguments (${args.length}); usage: ${definition.name} ${definition.v1Synopsis} {start|stop|status}`);
  }
  const given: Record<string, string> = {};
  args.forEach((value, index) => {
    given[positional[index]!.name] = value;
  });
  return given;
}

/** C0 controls, DEL and C1 controls: never part of a name or path anyone means, and raw in a message they rewrite the operator's terminal. */
const CONTROL_CHARACTER = /[\x00-\x1f\x7f-\x9f]/;

function checkValue(spec: ParamSpec, value: string): string | undefined {
  if (!spec.allowShellMetacharacters) {
    const meta = describeShellMetacharacter(value);
    if (meta) return meta;
  }
  const control = CONTROL_CHARACTER.exec(value);
  if (control) return `contains the control character ${quote(control[0])}`;
  // Bytes that are not UTF-8 arrive as U+FFFD: acting on the decoded name would act on another file or resource.
  if (value.includes('\ufffd')) return 'is not valid UTF-8 (or contains U+FFFD)';
  if (spec.type === 'integer' && !/^-?\d+$/.test(value)) return `must be a whole number, got ${quote(value)}`;
  if (spec.type === 'boolean' && parseBoolean(value) === undefined) return `must be true or false, got ${quote(value)}`;
  return spec.check?.(value);
}

/** ocf_is_true's vocabulary. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (['yes', 'true', '1', 'on', 'y'].includes(v)) return true;
  if (['no', 'false', '0', 'off', 'n', ''].includes(v)) return false;
  return undefined;
}

/** Validates given values against the table and applies defaults. */
export function resolveParams(definition: AgentDefinition, given: Record<string, string>): Params {
  const values = new Map<string, string>();
  const named = new Set<string>();
  for (const spec of definition.params) {
    const raw = given[spec.name];
    if (raw === undefined || raw === '') {
      if (spec.required) throw new InvalidParameterError(spec.name, `${spec.name} is required (${spec.shortdesc})`);
      if (spec.default !== undefined) values.set(spec.name, spec.default);
      continue;
    }
    const problem = checkValue(spec, raw);
    if (problem) throw new InvalidParameterError(spec.name, `${spec.name} ${quote(raw)} ${problem}`);
    values.set(spec.name, raw);
    named.add(spec.name);
  }
  return makeParams(values, named);
}

/** `given`: the names set by the caller, not by a default (all of `values` when omitted). */
export function makeParams(values: Map<string, string>, given: ReadonlySet<string> = new Set(values.keys())): Params {
  return {
    given: (name) => given.has(name),
    get: (name) => values.get(name) ?? '',
    has: (name) => (values.get(name) ?? '') !== '',
    int: (name) => Number.parseInt(values.get(name) ?? '', 10),
    bool: (name) => parseBoolean(values.get(name) ?? '') ?? false,
    all: () => Object.fromEntries(values),
  };
}
