import fc from 'fast-check';
import type { AgentDefinition, ParamSpec } from '../../lib/contract/agent.ts';

// Inputs for the agents, generated from their own parameter tables: every
// parameter the table declares, in its v1 position (if any) and as
// OCF_RESKEY_<name>, with values of its declared type, the default, things
// that exist on the rig, and hostile strings.
//
// A generated value is a *template*: `{{name}}` stands for something of the
// worker's rig (its loop device, its scratch directory...), resolved when the
// case runs, because concurrent workers each have their own rig and a shrunk
// counterexample must read the same on any of them. `{{xHH}}` is one raw
// byte, the only way to put invalid UTF-8 into argv or the environment
// (Node's spawn takes strings and encodes them as UTF-8; see harness.ts).
// NUL never appears: execve(2) cannot carry it (argv and environ entries are
// C strings), so it is not an input an agent can receive.

export type Template = string;

export interface V1Case {
  mode: 'v1';
  args: Template[];
  action: Template;
}

export interface OcfCase {
  mode: 'ocf';
  /** OCF_RESKEY_<param> and the other OCF variables, by full name. */
  env: Record<string, Template>;
  action: Template;
}

export type FuzzCase = V1Case | OcfCase;

/** Control characters except NUL (see above), DEL and the C1 range's first. */
const CONTROL = [...Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)), '\x7f', '\u0085'];
const SHELL = [';', '|', '&', '`', '$(', ')', '{', '}', '<', '>', '*', '?', '!', "'", '"', '\\', '[', ']', '#', '~', '$HOME', '&&', '||'];

/** Strings no parameter should accept blindly, whatever its type. */
export const HOSTILE: readonly string[] = [
  '', ' ', '  ', '\t', '\n', ' x', 'x ', 'a b', 'a\nb', 'a\rb', '\r\n',
  '-', '--', '-x', '--x', '-rf', '--all', '-1', '--version',
  '.', '..', '../..', '/..', '/../..', 'a/../b', './x', '~', '~root',
  '0', '-0', '00', '1e3', '0x10', '+1', '18446744073709551616', '99999999999999999999999',
  'NaN', 'Infinity', 'undefined', 'null', 'true', 'false', 'all',
  '\u00e9', '\u202e', '\ufeff', '\u00a0', '\u2028', '\u{1f600}', '\uff11', '\ud7ff',
  '{{xff}}', '{{xc3}}', 'a{{xfe}}b', '{{xed}}{{xa0}}{{x80}}', '{{xc0}}{{xaf}}', '{{xf8}}{{x88}}{{x80}}{{x80}}{{x80}}',
  'x'.repeat(256), 'x'.repeat(4097), 'a/'.repeat(3000), '9'.repeat(400),
  ...CONTROL.map((c) => `a${c}b`),
  ...SHELL.map((s) => `x${s}y`),
  '$(reboot)', '`reboot`', '; reboot', '| cat /etc/shadow', '> /etc/passwd', '%s%s%n', '%00', '\\0',
];

/** IPv4 and IPv6 in odd spellings (never the rig's own base addresses: naming those, a stop would rightly remove them). */
export const ADDRESS_EDGES: readonly string[] = [
  '0.0.0.0', '255.255.255.255', '198.18.0.256', '198.18.0', '198.18.0.5.', '.198.18.0.5', '198.18.0.05', '198.018.0.5',
  '0x0c.0.0.1', '3324903429', '198.18.0.5 ', ' 198.18.0.5', '198.18.0.5\n', '198.18.0.-5', '198.18.0.5:80', '224.0.0.1',
  '::', '::0', 'fd00::', 'fd00:::5', 'fd00::5::1', 'fd00::g', 'FD00::5', 'fd00:0:0:0:0:0:0:0:5', 'fd00:0:0:0:0:0:0:5',
  'fd00::5%eth1', '[fd00::5]', '::ffff:198.18.0.5', 'fe80::5', 'ff02::1', 'fd00::198.18.0.5', ':fd00::5', 'fd00::5:',
  `${'0:'.repeat(20)}1`, 'fd00::00005',
];

export const MASK_EDGES: readonly string[] = ['0', '1', '8', '24', '31', '32', '33', '64', '127', '128', '129', '-1', '024', '24.0', '255.255.255.0', '255.0.255.0', '0.0.0.0', '255.255.255.255', 'ffff:ffff::'];

/** Separators that turn several atoms into one argument (IPaddr's a/b/c, Filesystem options a,b, haresources' ::). */
const SEPARATORS = ['/', '/', '/', ':', ',', '::', '='];

export interface GeneratorRig {
  /** Placeholders this agent's rig resolves ({{dev}} ...), plus plain atoms that exist there (eth1). */
  atoms: readonly Template[];
  /**
   * Which rig values fit which parameter (eth1 is a nic, {{dev}} a device), so that
   * most cases get past the first check. Only a hint: the parameters themselves
   * come from the table (checkFits refuses a name the table does not have).
   */
  fits?: Record<string, readonly Template[]>;
}

/** Throws when `fits` names a parameter that the agent's table does not declare. */
export function checkFits(definition: AgentDefinition, rig: GeneratorRig): void {
  for (const name of Object.keys(rig.fits ?? {})) {
    if (!definition.params.some((p) => p.name === name)) throw new Error(`${definition.name} has no parameter ${name}`);
  }
}

export interface GeneratorOptions {
  /** A safer value arbitrary for some parameters (see each agent's test: where a valid value could change the host outside the rig). */
  override?: Record<string, fc.Arbitrary<Template>>;
}

const hostile = () => fc.constantFrom(...HOSTILE);
const edges = () => fc.constantFrom(...ADDRESS_EDGES, ...MASK_EDGES);

/** Free-form text: printable, control characters, non-ASCII, raw bytes. */
function freeText(): fc.Arbitrary<Template> {
  const chunk = fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTROL) },
    { weight: 1, arbitrary: fc.constantFrom(...SHELL) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((b) => `{{x${b.toString(16)}}}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
  );
  return fc.array(chunk, { maxLength: 4 }).map((parts) => parts.join('').replace(/\0/g, ''));
}

/** A value of the parameter's declared type (its default for strings). */
function typedValue(spec: ParamSpec): fc.Arbitrary<Template> {
  switch (spec.type) {
    case 'integer':
      return fc.oneof(fc.integer({ min: 0, max: 5 }).map(String), fc.integer({ min: -3, max: 3000 }).map(String));
    case 'boolean':
      return fc.constantFrom('yes', 'true', '1', 'on', 'y', 'no', 'false', '0', 'off', 'n', 'YES', 'True', 'Off', '');
    default:
      return spec.default !== undefined ? fc.constant(spec.default) : fc.constant('');
  }
}

/** Almost a value of the declared type. */
function oddTypedValue(spec: ParamSpec): fc.Arbitrary<Template> {
  switch (spec.type) {
    case 'integer':
      return fc.constantFrom('-1', '2147483648', '99999999999999999999', '1.5', '1e3', '0x10', ' 5', '5 ', '+5', '007', '\u0663', '5s', '');
    case 'boolean':
      return fc.constantFrom('2', 'yes please', 'safe', 'tru', ' yes', 'yes ', 'ja', '-1');
    default:
      return fc.constantFrom('', ' ', `${spec.default ?? ''} `, `${spec.default ?? ''}/`);
  }
}

/** A plausible value: what fits it on the rig, its default, a value of its type; no hostile strings. */
export function goodValue(spec: ParamSpec, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<Template> {
  const override = options.override?.[spec.name];
  if (override) return override;
  const fits = rig.fits?.[spec.name];
  // A string without a default has no typed value but '' ("not given"; the OCF generator leaves it out instead).
  if (fits?.length) return spec.type === 'string' && spec.default === undefined ? fc.constantFrom(...fits) : fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...fits) }, { weight: 1, arbitrary: typedValue(spec) });
  if (spec.type !== 'string') return typedValue(spec);
  // Rig values this parameter's own check accepts (all of them when it has none).
  const accepted = rig.atoms.filter((a) => !spec.check || spec.check(a) === undefined);
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(accepted.length ? accepted : rig.atoms)) }, { weight: 1, arbitrary: typedValue(spec) });
}

/** A value for one parameter: plausible values most of the time, so cases get past the first check. */
export function paramValue(spec: ParamSpec, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<Template> {
  const override = options.override?.[spec.name];
  if (override) return override;
  const atom = fc.constantFrom(...rig.atoms);
  return fc.oneof(
    { weight: 5, arbitrary: goodValue(spec, rig, options) },
    { weight: 1, arbitrary: oddTypedValue(spec) },
    { weight: 2, arbitrary: compound(rig) },
    { weight: 2, arbitrary: hostile() },
    { weight: 1, arbitrary: edges() },
    { weight: 1, arbitrary: freeText() },
    { weight: 1, arbitrary: fc.tuple(atom, hostile()).map(([a, h]) => a + h) },
  );
}

/** Several atoms (or edges, or hostile strings) joined as one argument: 198.18.0.5/24/eth1, ro,noatime, fd00::5. */
function compound(rig: GeneratorRig): fc.Arbitrary<Template> {
  const piece = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...rig.atoms) }, { weight: 2, arbitrary: edges() }, { weight: 1, arbitrary: hostile() });
  return fc.tuple(fc.array(piece, { minLength: 2, maxLength: 5 }), fc.constantFrom(...SEPARATORS)).map(([parts, sep]) => parts.join(sep));
}

const V1_ACTIONS = ['start', 'stop', 'status'];
const OCF_ACTIONS = ['start', 'stop', 'monitor', 'status', 'validate-all'];
const OTHER_ACTIONS = ['meta-data', 'usage', 'help', '--help', 'restart', 'reload', 'promote', 'START', 'Status', 'status ', '', '-', 'stop;reboot'];

function action(main: readonly string[]): fc.Arbitrary<Template> {
  return fc.oneof(
    { weight: 24, arbitrary: fc.constantFrom(...main) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_ACTIONS) },
    { weight: 1, arbitrary: hostile() },
  );
}

/**
 * One v1 argument can carry several parameters: IPaddr's synopsis
 * "ip[/bits-or-dotted-netmask[/nic[:label]][/broadcast]]" names ip,
 * cidr_netmask, nic, iflabel and broadcast. Reads the agent's v1Synopsis:
 * per argument, its fields (separator + the parameter whose name ends with
 * the field's last word), when two or more fields name parameters.
 */
export function synopsisFields(definition: AgentDefinition): ({ sep: string; spec: ParamSpec }[] | undefined)[] {
  return definition.v1Synopsis
    .replace(/[[\]]/g, '')
    .split(/\s+/)
    .filter((a) => a && !a.startsWith('{'))
    .map((arg) => {
      const fields: { sep: string; spec: ParamSpec }[] = [];
      for (const m of arg.matchAll(/([/:]?)([A-Za-z][\w.-]*)/g)) {
        const word = m[2]!.split(/[^A-Za-z]+/).filter(Boolean).pop()!.toLowerCase();
        const spec = definition.params.find((p) => p.name.toLowerCase().endsWith(word));
        if (spec) fields.push({ sep: m[1]!, spec });
      }
      return fields.length >= 2 ? fields : undefined;
    });
}

/** A multi-field argument: the first k fields, each a value of its parameter. */
function fieldsValue(fields: { sep: string; spec: ParamSpec }[], rig: GeneratorRig, options: GeneratorOptions): fc.Arbitrary<Template> {
  return fc
    .integer({ min: 1, max: fields.length })
    .chain((k) => fc.tuple(...fields.slice(0, k).map((f) => fc.oneof({ weight: 3, arbitrary: goodValue(f.spec, rig, options) }, { weight: 1, arbitrary: paramValue(f.spec, rig, options) }).map((v) => ({ sep: f.sep, v })))))
    .map((parts) => parts.map((p, i) => (i === 0 ? p.v : p.sep + p.v)).join(''));
}

/** v1: the positional parameters of the table in order, sometimes too few or too many, then the action. */
export function v1Case(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<V1Case> {
  const positional = definition.params.filter((p) => p.v1 !== undefined).sort((a, b) => a.v1! - b.v1!);
  const multi = synopsisFields(definition);
  const extra = fc.oneof(compound(rig), hostile(), fc.constantFrom(...rig.atoms));
  const single = (i: number) => {
    const fields = multi[i];
    const spec = positional[i]!;
    const plain = fc.oneof({ weight: 2, arbitrary: goodValue(spec, rig, options) }, { weight: 1, arbitrary: paramValue(spec, rig, options) });
    return fields ? fc.oneof({ weight: 3, arbitrary: fieldsValue(fields, rig, options) }, { weight: 1, arbitrary: plain }) : plain;
  };
  const forPosition = (i: number) => (i < positional.length ? fc.oneof({ weight: 6, arbitrary: single(i) }, { weight: 1, arbitrary: compound(rig) }) : extra);
  const count = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: Math.min(1, positional.length), max: positional.length }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: positional.length + 2 }) },
  );
  const args = count
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => forPosition(i))))
    .map((values) => [...values]);
  return fc.record({ mode: fc.constant('v1' as const), args, action: action(V1_ACTIONS) });
}

/** OCF variables besides OCF_RESKEY_<param> that the dispatcher or an agent reads. */
const OCF_EXTRAS: Record<string, fc.Arbitrary<Template>> = {
  OCF_CHECK_LEVEL: fc.oneof(fc.constantFrom('0', '10', '20', '5', '-1', 'x'), hostile()),
  OCF_RESKEY_CRM_meta_interval: fc.constantFrom('0', '10000', '', 'x'),
  OCF_RESKEY_CRM_meta_timeout: fc.oneof(fc.constantFrom('20000', '1', '0', '-5', '1500', 'abc', '99999999999999999999')),
  OCF_RESOURCE_INSTANCE: fc.oneof(fc.constantFrom('fuzz', 'res:0', '../../x', '/../../../x', 'a/b'), hostile()),
  OCF_RESKEY_CRM_meta_clone: fc.constantFrom('0', '1', ''),
  OCF_RESKEY_CRM_meta_clone_max: fc.constantFrom('2', ''),
  OCF_RESKEY_no_such_parameter: hostile(),
};

/**
 * OCF_RESKEY_*: required parameters mostly given, optional ones now and then;
 * plausible values, and in most cases exactly one parameter (given or not)
 * gets an arbitrary value, so that one bad input at a time reaches as deep
 * as it can. The rest: every parameter arbitrary.
 */
function ocfParams(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions): fc.Arbitrary<Record<string, Template>> {
  const key = (spec: ParamSpec) => `OCF_RESKEY_${spec.name}`;
  const present = (spec: ParamSpec) => fc.oneof({ weight: spec.required ? 12 : 1, arbitrary: fc.constant(true) }, { weight: spec.required ? 1 : 3, arbitrary: fc.constant(false) });
  const plausible = fc.tuple(...definition.params.map((spec) => fc.tuple(present(spec), goodValue(spec, rig, options))));
  const oneBad = fc.tuple(fc.nat({ max: definition.params.length - 1 }), fc.constant(null)).chain(([i]) =>
    paramValue(definition.params[i]!, rig, options).map((v) => ({ i, v })),
  );
  const mostlyGood = fc.tuple(plausible, fc.option(oneBad, { freq: 2 })).map(([values, bad]) => {
    const env: Record<string, Template> = {};
    values.forEach(([given, value], i) => {
      if (given) env[key(definition.params[i]!)] = value;
    });
    if (bad) env[key(definition.params[bad.i]!)] = bad.v;
    return env;
  });
  const model: Record<string, fc.Arbitrary<Template>> = {};
  for (const spec of definition.params) model[key(spec)] = paramValue(spec, rig, options);
  return fc.oneof({ weight: 5, arbitrary: mostlyGood }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Record<string, Template>> });
}

/** OCF: any subset of the table's parameters as OCF_RESKEY_*, some OCF variables, and an action. */
export function ocfCase(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<OcfCase> {
  const extras = fc.record(OCF_EXTRAS, { requiredKeys: [] });
  const env = fc
    .tuple(ocfParams(definition, rig, options), fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extras }))
    .map(([params, more]) => ({ ...params, ...more }) as Record<string, Template>);
  return fc.record({ mode: fc.constant('ocf' as const), env, action: action(OCF_ACTIONS) });
}

/** Either mode, half and half. */
export function fuzzCase(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<FuzzCase> {
  // No bias: fast-check's bias towards "small" values would pick the first parameter and the first
  // choice of every list far more often; the hostile lists already hold the edge cases.
  return fc.noBias(fc.oneof(v1Case(definition, rig, options), ocfCase(definition, rig, options)));
}
