import fc from 'fast-check';
import type { AgentDefinition, ParamSpec } from '../../lib/agent.ts';

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

function typedValue(spec: ParamSpec): fc.Arbitrary<Template> {
  switch (spec.type) {
    case 'integer':
      return fc.oneof(
        fc.integer({ min: -3, max: 30 }).map(String),
        fc.constantFrom('0', '-1', '2147483648', '99999999999999999999', '1.5', '1e3', '0x10', ' 5', '5 ', '+5', '007', '٣'),
      );
    case 'boolean':
      return fc.constantFrom('yes', 'true', '1', 'on', 'y', 'no', 'false', '0', 'off', 'n', 'YES', 'True', 'Off', '', '2', 'yes please', 'safe');
    default:
      return spec.default !== undefined ? fc.constant(spec.default) : fc.constant('');
  }
}

/** A value for one parameter: rig atoms and typed values most of the time, so cases get past the first check. */
export function paramValue(spec: ParamSpec, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<Template> {
  const override = options.override?.[spec.name];
  if (override) return override;
  const atom = fc.constantFrom(...rig.atoms);
  return fc.oneof(
    { weight: 5, arbitrary: spec.type === 'string' ? atom : typedValue(spec) },
    { weight: 2, arbitrary: typedValue(spec) },
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
    { weight: 12, arbitrary: fc.constantFrom(...main) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_ACTIONS) },
    { weight: 1, arbitrary: hostile() },
  );
}

/** v1: the positional parameters of the table in order, sometimes too few or too many, then the action. */
export function v1Case(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<V1Case> {
  const positional = definition.params.filter((p) => p.v1 !== undefined).sort((a, b) => a.v1! - b.v1!);
  const extra = fc.oneof(compound(rig), hostile(), fc.constantFrom(...rig.atoms));
  const forPosition = (i: number) => (i < positional.length ? fc.oneof({ weight: 4, arbitrary: paramValue(positional[i]!, rig, options) }, { weight: 1, arbitrary: compound(rig) }) : extra);
  const args = fc
    .integer({ min: 0, max: positional.length + 2 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => forPosition(i))))
    .map((values) => [...values]);
  return fc.record({ mode: fc.constant('v1' as const), args, action: action(V1_ACTIONS) });
}

/** OCF variables besides OCF_RESKEY_<param> that the dispatcher or an agent reads. */
const OCF_EXTRAS: Record<string, fc.Arbitrary<Template>> = {
  OCF_CHECK_LEVEL: fc.oneof(fc.constantFrom('0', '10', '20', '5', '-1', 'x'), hostile()),
  OCF_RESKEY_CRM_meta_interval: fc.constantFrom('0', '10000', '', 'x'),
  OCF_RESKEY_CRM_meta_timeout: fc.oneof(fc.constantFrom('20000', '1', '0', '-5', '1500', 'abc', '99999999999999999999')),
  OCF_RESOURCE_INSTANCE: fc.oneof(fc.constantFrom('fuzz', 'res:0'), hostile()),
  OCF_RESKEY_CRM_meta_clone: fc.constantFrom('0', '1', ''),
  OCF_RESKEY_CRM_meta_clone_max: fc.constantFrom('2', ''),
  OCF_RESKEY_no_such_parameter: hostile(),
};

/** OCF: any subset of the table's parameters as OCF_RESKEY_*, some OCF variables, and an action. */
export function ocfCase(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<OcfCase> {
  const model: Record<string, fc.Arbitrary<Template>> = {};
  for (const spec of definition.params) model[`OCF_RESKEY_${spec.name}`] = paramValue(spec, rig, options);
  const extras = fc.record(OCF_EXTRAS, { requiredKeys: [] });
  const env = fc.tuple(fc.record(model, { requiredKeys: [] }), fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extras })).map(([params, more]) => ({ ...params, ...more }) as Record<string, Template>);
  return fc.record({ mode: fc.constant('ocf' as const), env, action: action(OCF_ACTIONS) });
}

/** Either mode, half and half. */
export function fuzzCase(definition: AgentDefinition, rig: GeneratorRig, options: GeneratorOptions = {}): fc.Arbitrary<FuzzCase> {
  return fc.oneof(v1Case(definition, rig, options), ocfCase(definition, rig, options));
}
