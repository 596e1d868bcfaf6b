// The layering of ha-resource-agents, as rules that fail the suite
// (test/layering.test.ts cruises agents, bin and lib with this file; by hand:
// npx depcruise --config .dependency-cruiser.cjs agents bin lib).
//
//   bin ──▶ agents ──▶ lib/<domain> ──▶ lib/contract ──▶ lib/system
//    │                 (ip, drbd, mysql,      ▲                │
//    └───────────────▶  fs, heartbeat)        └── errors.ts ───┘
//
// Each rule names an arrow that may NOT exist. The README's Layout section
// draws the same picture; when the two disagree, this file is the truth.

/** The domains: one resource's (or heartbeat's) knowledge each. */
const DOMAINS = ['ip', 'drbd', 'mysql', 'fs', 'heartbeat'];

/**
 * The arrows between domains that exist, and why. Every other arrow from one
 * domain to another is forbidden (rule "domains-apart-<name>").
 */
const DOMAIN_ARROWS = {
  ip: [],
  fs: [],
  // drbdadm.ts names where a DRBD device is mounted when a demote is refused (device in use).
  drbd: ['^lib/fs/mountinfo\\.ts$'],
  // datadir.ts reads mountinfo entries, and haresources (as ResourceManager
  // parses it) for the mount point the datadir must be on.
  mysql: ['^lib/fs/mountinfo\\.ts$', '^lib/heartbeat/haresources\\.ts$'],
  // `ha-agent check` asks each domain what it knows about a resource.
  heartbeat: ['^lib/(ip|drbd|mysql|fs)/'],
};

/**
 * lib/heartbeat is mostly the CLI's (check, status, crm-config, and the
 * watchers to come); its parsers of heartbeat's own files are shared. The
 * agents may reach these and nothing else of lib/heartbeat.
 */
const HEARTBEAT_SHARED = '^lib/heartbeat/(haresources|hacf|authkeys)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-not-to-agents-or-bin',
      comment: 'lib/ is shared code below the agents and the CLI: it never imports them (the CLI hands check its agents as data).',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(agents|bin)/' },
    },
    {
      name: 'agents-not-to-bin',
      comment: 'bin/ is the entry point above the agents; an agent importing it would load the CLI on every cold call.',
      severity: 'error',
      from: { path: '^agents/' },
      to: { path: '^bin/' },
    },
    {
      name: 'agents-apart',
      comment: 'One file per agent: an agent never imports another (agents/index.ts loads each lazily by name). Shared steps go to lib/.',
      severity: 'error',
      from: { path: '^agents/', pathNot: '^agents/index\\.ts$' },
      to: { path: '^agents/' },
    },
    {
      name: 'agents-never-reach-the-cli',
      comment:
        'The agents are cold processes on every call: nothing they load, directly or through lib/, may pull in commander, ' +
        'bin/cli.ts or the CLI-only parts of lib/heartbeat (only its file parsers are shared).',
      severity: 'error',
      from: { path: '^agents/' },
      to: {
        path: ['(^|/)node_modules/commander/', '^bin/', '^lib/heartbeat/'],
        pathNot: HEARTBEAT_SHARED,
        reachable: true,
      },
    },
    {
      name: 'base-not-to-domain',
      comment: 'lib/system and lib/contract are the floor every domain stands on: they import no domain.',
      severity: 'error',
      from: { path: '^lib/(system|contract)/' },
      to: { path: `^lib/(${DOMAINS.join('|')})/` },
    },
    {
      name: 'system-only-errors-from-contract',
      comment:
        'lib/system throws the contract\'s typed errors (CommandFailed, Timeout, NotInstalled map to exit codes by name), ' +
        'so it may import lib/contract/errors.ts (and exit-codes.ts under it); never the agent model, parameters or the ' +
        'dispatcher, which stand on lib/system (dispatch.ts uses its lock, log and stdio).',
      severity: 'error',
      from: { path: '^lib/system/' },
      to: { path: '^lib/contract/', pathNot: '^lib/contract/(errors|exit-codes)\\.ts$' },
    },
    ...Object.entries(DOMAIN_ARROWS).map(([domain, allowed]) => ({
      name: `domains-apart-${domain}`,
      comment: `lib/${domain} imports no other domain except the arrows DOMAIN_ARROWS.${domain} lists (with their reason).`,
      severity: 'error',
      from: { path: `^lib/${domain}/` },
      to: {
        path: `^lib/(${DOMAINS.filter((d) => d !== domain).join('|')})/`,
        ...(allowed.length ? { pathNot: allowed } : {}),
      },
    })),
    {
      name: 'no-circular',
      comment: 'No module reaches itself through its imports: a cycle means two files that are really one, or a layer upside down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shipped-not-to-test',
      comment: 'What ships (agents, bin, lib) never imports the tests, rigs or fixtures.',
      severity: 'error',
      from: { path: '^(agents|bin|lib)/' },
      to: { path: '^test/' },
    },
    {
      name: 'shipped-not-to-dev-dependencies',
      comment: 'What ships is bundled from dependencies only; devDependencies (tap, fast-check, ...) are for tests and tools.',
      severity: 'error',
      from: { path: '^(agents|bin|lib)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
