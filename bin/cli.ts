// `ha-agent` called by its own name: the operator's CLI (commander). Loaded
// by bin/ha-agent.ts with a dynamic import only then, so the agents' cold
// calls (IPaddr, drbddisk, Filesystem, mysqld) never evaluate commander.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AGENTS } from '../agents/index.ts';
import type { AgentDefinition } from '../lib/contract/agent.ts';
import { runAgent } from '../lib/contract/dispatch.ts';
import { run } from '../lib/system/exec.ts';
import { NotInstalledError } from '../lib/contract/errors.ts';
import { hostName } from '../lib/system/host.ts';
import { formatFinding, readErrorText, reportJson, runCheck } from '../lib/heartbeat/check/index.ts';
import { buildCrmConfig, DEFAULT_LOCATION_SCORE, DEFAULT_STICKINESS, renderCrmConfig } from '../lib/heartbeat/crm-config.ts';
import { parseHaresources } from '../lib/heartbeat/haresources.ts';
import { groupStatus, type GroupStatus } from '../lib/heartbeat/status.ts';
import { ipList } from '../lib/ip/iproute.ts';
import { parseIpAddrOutput, parseIpRouteOutput } from '../lib/ip/iproute-text.ts';
import { writeStderr, writeStdout } from '../lib/system/stdio.ts';
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

/** Exit codes of the CLI's own commands. */
export const EXIT = { OK: 0, FINDINGS: 1, USAGE: 2 } as const;

export async function loadAllAgents(): Promise<Record<string, AgentDefinition>> {
  const entries = await Promise.all(Object.entries(AGENTS).map(async ([name, load]) => [name, await load()] as const));
  return Object.fromEntries(entries);
}

const score = (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};

// ---- watch option parsers ----
const positive = (value: string): number => {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('must be a number of seconds above 0');
  return n;
};
const nonNegative = (value: string): number => {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  return Number(value);
};
const positiveInteger = (value: string): number => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a whole number above 0');
  return Number(value);
};
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
// ---- end watch option parsers ----

/** Thrown by an action to end with an exit code (after its output is written). */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

async function crmConfigAction(file: string, options: { stickiness: number; locationScore: number }): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    writeStderr(`ha-agent crm-config: cannot read ${file}: ${readErrorText(error)}\n`);
    throw new ExitWith(EXIT.FINDINGS);
  }
  const parsed = parseHaresources(text);
  const config = buildCrmConfig(parsed, await loadAllAgents(), { stickiness: options.stickiness, locationScore: options.locationScore });
  // A "#" on a continued line makes resources of a comment: ResourceManager would run them; we do not guess.
  for (const p of parsed.problems) writeStderr(`${file}:${p.line}: ${p.code === 'comment-in-continuation' ? 'error' : 'warning'}: ${p.message}\n`);
  for (const p of config.problems) writeStderr(`${file}:${p.line}: ${p.severity}: ${p.resource}: ${p.message}\n`);
  const errors = config.problems.filter((p) => p.severity === 'error').length + parsed.problems.filter((p) => p.code === 'comment-in-continuation').length;
  if (errors) {
    writeStderr(`ha-agent crm-config: ${errors} error(s) in ${file}; nothing printed (run ha-agent check)\n`);
    throw new ExitWith(EXIT.FINDINGS);
  }
  if (!config.groups.length) {
    writeStderr(`ha-agent crm-config: ${file} has no resource groups\n`);
    throw new ExitWith(EXIT.FINDINGS);
  }
  writeStdout(renderCrmConfig(config, file));
}

/** This network namespace's interfaces and main-table routes (both families). */
async function networkView() {
  const ip = (args: string[]) => ipList(args, { allowFailure: true });
  const [addr, r4, r6] = await Promise.all([ip(['addr', 'show']), ip(['-4', 'route', 'show', 'table', 'main']), ip(['-6', 'route', 'show', 'table', 'main'])]);
  return { interfaces: parseIpAddrOutput(addr), routes: [...parseIpRouteOutput(r4), ...parseIpRouteOutput(r6)] };
}

async function resolves(name: string): Promise<boolean> {
  const { lookup } = await import('node:dns/promises');
  try {
    await lookup(name);
    return true;
  } catch {
    return false;
  }
}

interface CheckCliOptions {
  haDir: string;
  node?: string;
  json?: boolean;
  root: string;
}

async function checkAction(options: CheckCliOptions): Promise<void> {
  const { interfaces, routes } = await networkView();
  const report = await runCheck({
    haDir: options.haDir,
    node: options.node ?? hostName(),
    root: options.root,
    agents: await loadAllAgents(),
    interfaces,
    routes,
    env: process.env,
    resolveHost: resolves,
    firewall: async (port, ifaces) => {
      const { readFirewall } = await import('../lib/heartbeat/firewall.ts');
      return readFirewall(port, ifaces, {
        isRoot: process.getuid?.() === 0,
        run: async (command, args) => {
          try {
            return await run(command, args, { timeoutMs: 5000, allowFailure: true });
          } catch (error) {
            if (error instanceof NotInstalledError) return undefined;
            throw error;
          }
        },
      });
    },
  });
  if (options.json) writeStdout(`${reportJson(report)}\n`);
  else {
    for (const f of report.findings) writeStdout(`${formatFinding(f)}\n`);
    const errors = report.findings.filter((f) => f.severity === 'error').length;
    const warnings = report.findings.filter((f) => f.severity === 'warning').length;
    const hints = report.findings.filter((f) => f.severity === 'info').length;
    writeStdout(`${options.haDir}: ${errors} error(s), ${warnings} warning(s)${hints ? `, ${hints} hint(s)` : ''} for node ${(options.node ?? hostName()).toLowerCase()}${report.ok ? '' : '; heartbeat would fail or misbehave, see above'}\n`);
  }
  throw new ExitWith(report.ok ? EXIT.OK : EXIT.FINDINGS);
}

interface StatusCliOptions {
  haDir: string;
  node?: string;
  all?: boolean;
  json?: boolean;
}

function statusText(groups: readonly GroupStatus[], file: string): string {
  const out: string[] = [];
  for (const g of groups) {
    const held = g.resources.filter((r) => r.state === 'held').length;
    out.push(`${file}:${g.line}  node ${g.node}  group ${g.key}`);
    const width = Math.max(...g.resources.map((r) => r.resource.length), 8);
    for (const r of g.resources) out.push(`  ${r.state.padEnd(8)}  ${r.resource.padEnd(width)}  ${`${r.ms} ms`.padStart(7)}  ${r.detail}`);
    out.push(`  ${g.verdict} (${held} of ${g.resources.length} held)`);
  }
  return `${out.join('\n')}\n`;
}

async function statusAction(options: StatusCliOptions): Promise<void> {
  const file = `${options.haDir.replace(/\/+$/, '')}/haresources`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    writeStderr(`ha-agent status: cannot read ${file}: ${readErrorText(error)}\n`);
    throw new ExitWith(EXIT.FINDINGS);
  }
  const parsed = parseHaresources(text);
  const node = (options.node ?? hostName()).toLowerCase();
  const groups = parsed.groups.filter((g) => options.all || g.node === node);
  if (!groups.length) {
    writeStderr(`ha-agent status: ${file} has no group for node ${node}${parsed.groups.length ? ` (nodes there: ${[...new Set(parsed.groups.map((g) => g.node))].join(', ')}; --all shows every group)` : ''}\n`);
    throw new ExitWith(EXIT.FINDINGS);
  }
  const results: GroupStatus[] = [];
  for (const g of groups) results.push(await groupStatus(parsed, g, { haDir: options.haDir.replace(/\/+$/, ''), env: process.env }));
  // ok: every group wholly held or wholly released, and every answer understood.
  const ok = results.every((g) => g.verdict !== 'SOME' && g.resources.every((r) => r.state !== 'unknown'));
  if (options.json) writeStdout(`${JSON.stringify({ ok, groups: results }, null, 2)}\n`);
  else writeStdout(statusText(results, file));
  throw new ExitWith(ok ? EXIT.OK : EXIT.FINDINGS);
}

export function buildProgram(): Command {
  const program = new Command('ha-agent');
  program
    .description('Heartbeat v1 / OCF resource agents (IPaddr, drbddisk, Filesystem, mysqld) in one executable, and tools to debug a node')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for ha-agent or a command')
    .addHelpCommand(false)
    .showHelpAfterError('(run ha-agent --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: writeStdout, writeErr: writeStderr })
    .addHelpText(
      'after',
      `
The agents themselves are links to this executable (IPaddr, drbddisk,
Filesystem, mysqld): IPaddr 192.168.4.1/16/eth1 status, or by hand
ha-agent --agent drbddisk data status.

Exit codes: 0 ok, 1 findings (check: an error; status: not every resource
held as asked), 2 usage error.`,
    );

  program
    .command('check')
    .description('check ha.cf, authkeys and haresources as heartbeat reads them, every resource with our agents\' own parameter tables and validate-all, and what this node starts at boot; exit 0 when there is no error, 1 when there is one')
    .option('--ha-dir <dir>', 'heartbeat\'s configuration directory', '/etc/ha.d')
    .option('--node <name>', 'check as this node (default: uname -n)')
    .option('--json', 'print one JSON object: {"ok": bool, "findings": [{"severity", "file", "line", "code", "message"}]}')
    .addOption(new Option('--root <dir>', 'read the node\'s files (ha.d, rc?.d, systemd, fstab, my.cnf, drbd.conf) under this directory (tests)').default('/').hideHelp())
    .action(checkAction);

  program
    .command('status')
    .description('call each resource\'s status as ResourceManager does and print held / released / unknown per resource and the group verdict ALL / SOME / NONE as statgroup says it; exit 0 when every group is wholly held or wholly released')
    .option('--ha-dir <dir>', 'heartbeat\'s configuration directory (its haresources and resource.d)', '/etc/ha.d')
    .option('--node <name>', 'show the groups of this node (default: uname -n)')
    .option('--all', 'show every group of haresources, not only this node\'s')
    .option('--json', 'print one JSON object: {"ok": bool, "groups": [{"node", "line", "key", "verdict", "resources": [{"resource", "state", "detail", "ms", ...}]}]}')
    .action(statusAction);

  program
    .command('run')
    .description('run one agent as ResourceManager does: NAME ARGS... ACTION (the same as the NAME link, or --agent NAME)')
    .argument('<name>', `agent name: ${Object.keys(AGENTS).join(', ')}`)
    .argument('[args...]', 'the agent\'s heartbeat v1 arguments, then the action (start, stop, status, ...)')
    .allowUnknownOption()
    // Options after NAME are the agent's (`run drbddisk --help` is drbddisk's help); `run --help` is this command's.
    .helpOption(false)
    .action(async (name: string, args: string[], _options: unknown, command: Command) => {
      if (name === '--help' || name === '-h') {
        command.outputHelp();
        throw new ExitWith(EXIT.OK);
      }
      const load = AGENTS[name];
      if (!load) {
        writeStderr(`ha-agent run: unknown agent ${JSON.stringify(name)}; one of ${Object.keys(AGENTS).join(', ')}\n`);
        throw new ExitWith(EXIT.USAGE);
      }
      throw new ExitWith(await runAgent(await load(), args));
    });

  program
    .command('crm-config')
    .description('print the crm shell configuration (Pacemaker) for the groups of a haresources file: ocf:hara primitives with our parameters, monitors, a group per line, a location preference, stickiness')
    .argument('[haresources]', 'the haresources file', '/etc/ha.d/haresources')
    .addOption(new Option('--stickiness <score>', 'rsc_defaults resource-stickiness (above --location-score: a group stays where it runs, like auto_failback off)').argParser(score).default(DEFAULT_STICKINESS))
    .addOption(new Option('--location-score <score>', 'score of each group\'s preference for its haresources node').argParser(score).default(DEFAULT_LOCATION_SCORE))
    .action(crmConfigAction);


  // ---- watch (lib/heartbeat/watch, loaded only when this command runs) ----
  program
    .command('watch')
    .description('watch this node every --interval: heartbeat, its links and the peer, the peer and the VIPs on the LAN, DRBD, the groups\' resources; raise each event once when it starts and clear it once when it ends, to heartbeat\'s log, --alert-exec hooks (Pacemaker\'s CRM_alert_* environment), --mail-to and Prometheus metrics; --once is a Nagios/Icinga check')
    .option('--ha-dir <dir>', 'heartbeat\'s configuration directory (ha.cf, haresources, resource.d, watch.conf)', '/etc/ha.d')
    .option('--node <name>', 'watch as this node (default: uname -n)')
    .addOption(new Option('--interval <seconds>', 'time between samples').argParser(positive).default(1))
    .option('--once', 'take one sample, print one Monitoring Plugins status line with perfdata, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
    .option('--json', 'with --once: one JSON object (status, events, sample); else each event as one JSON line on stdout')
    .addOption(new Option('--alert-exec <path[=recipient]>', 'run PATH for each raise and clear, with Pacemaker\'s alert environment (CRM_alert_recipient=RECIPIENT) and HA_alert_*; repeatable').argParser(collect).default([]))
    .addOption(new Option('--alert-timeout <seconds>', 'kill a hook or sendmail (its process group) after this long').argParser(positive).default(10))
    .addOption(new Option('--mail-to <address>', 'send one mail per raise and clear through sendmail -t; repeatable').argParser(collect).default([]))
    .option('--mail-from <address>', 'From: of the mails (default: the MTA\'s, root@this node)')
    .option('--sendmail <path>', 'the MTA\'s sendmail interface', '/usr/sbin/sendmail')
    .option('--metrics-file <path>', 'write Prometheus metrics there after every sample (node_exporter textfile collector format, written atomically)')
    .option('--listen <address:port>', 'serve Prometheus metrics on http://ADDRESS:PORT/metrics')
    .option('--peer-address <address>', 'the peer\'s address on the service LAN (default: its node name resolved, /etc/hosts)')
    .addOption(new Option('--raise-after <samples>', 'raise an event after this many consecutive samples show it').argParser(positiveInteger).default(1))
    .addOption(new Option('--clear-after <seconds>', 'clear an event once it has been gone this long without a break (damps flapping)').argParser(nonNegative).default(5))
    .option('--split-brain-dir <dir>', 'where DRBD\'s split-brain handler leaves drbd-split-brain-detected-RESOURCE-VOLUME files', '/var/run/drbd/splitbrain')
    .option('--config <path>', 'configuration file: "key = value" lines with these long options\' names (default: HA_DIR/watch.conf when it exists)')
    .addOption(new Option('--call-timeout <seconds>', 'bound of each command a sample runs').argParser(positive).default(10))
    .addOption(new Option('--heartbeat-pidfile <path>', 'heartbeat\'s PID file (tests)').default('/run/heartbeat.pid').hideHelp())
    .addHelpText('after', `
Events (stable codes; warning or critical):
  HA701 warning   one heartbeat link to the peer down
  HA702 critical  every link down while the peer answers on the LAN (split brain)
  HA703 warning   the peer dead (heartbeat says so, the LAN agrees)
  HA704 critical  resources held here while heartbeat is not running
  HA705 warning   heartbeat not running (nothing held)
  HA711 critical  a VIP held here answers from another MAC too
  HA721 critical  DRBD split brain (the split-brain handler's file)
  HA722 critical  DRBD Primary on both nodes
  HA723 critical  DRBD StandAlone
  HA724 warning   DRBD degraded (not connected, a disk not UpToDate)
  HA731 critical  a group held partially (not while ResourceManager runs)
  HA732 critical  a resource of a partially held group not running
  HA790 warning   part of the node's state cannot be read

Damping: an event is raised after --raise-after consecutive samples show it,
and cleared once it has been gone for --clear-after seconds without a break;
a condition flapping faster than that is one raise and one clear.

SIGHUP re-reads ha.cf, haresources and the configuration file; SIGTERM
ends the watcher (exit 0) after running hooks finish or time out.
Exit codes: 0 after SIGTERM, 2 usage error; with --once 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN (also a usage error or an unreadable ha.cf).`)
    .action(async (options: Record<string, unknown>, command: Command) => {
      const watch = await import('../lib/heartbeat/watch/watch.ts');
      const explicit = new Set(Object.keys(options).filter((k) => command.getOptionValueSource(k) === 'cli'));
      const defaults = { ...options, alertExec: [], mailTo: [], node: (options.node as string | undefined) ?? hostName() } as unknown as import('../lib/heartbeat/watch/watch.ts').WatchOptions;
      const cli = { ...options } as Partial<import('../lib/heartbeat/watch/watch.ts').WatchOptions>;
      const read = () => {
        const file = watch.readConfigFile(options.config as string | undefined, options.haDir as string);
        if (file.problems.length) return { error: file.problems.join('; ') };
        return watch.mergeOptions({ cli, explicit, defaults }, file.values);
      };
      const merged = read();
      if ('error' in merged) {
        writeStderr(`ha-agent watch: ${merged.error}\n`);
        // An unreadable configuration is UNKNOWN to a monitoring system, a usage error otherwise.
        throw new ExitWith(options.once ? 3 : EXIT.USAGE);
      }
      const { inProcessStatus } = await import('../lib/heartbeat/watch/in-process.ts');
      const watcher = new watch.Watcher(merged, read, VERSION, process.env, inProcessStatus(await loadAllAgents()));
      throw new ExitWith(options.once ? await watcher.once() : await watcher.run());
    });
  // ---- end watch ----
  // ---- timeline (issue 23): lib/heartbeat/timeline/, loaded only when this command runs.
  program
    .command('timeline')
    .description('rebuild what happened from the nodes\' heartbeat logs (ha-log, ha-debug, syslog; .gz and rotated sets): each incident\'s trigger, heartbeat\'s decisions, every ResourceManager call with its duration, the agents\' steps and refusals, the outcome and the service gap')
    .argument('<logfile...>', '[NODE=]LOGFILE: one node\'s log (NODE= when the file does not say which node wrote it)')
    .option('--since <time>', 'only lines from then on (YYYY-MM-DD HH:MM[:SS], local time)')
    .option('--until <time>', 'only lines up to then')
    .option('--offset <node=ms>', 'that node\'s clock minus the first node\'s, in ms (repeatable); default: estimated from paired messages', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'print one JSON object (README: ha-agent timeline --json)')
    .option('--html <file>', 'also write a self-contained page: a swimlane per node and resource, incidents marked, the log lines behind each bar')
    .action(async (files: string[], options: { since?: string; until?: string; offset?: string[]; json?: boolean; html?: string }) => {
      const { timelineCommand } = await import('../lib/heartbeat/timeline/command.ts');
      throw new ExitWith(await timelineCommand(files, options, { out: writeStdout, err: writeStderr }));
    });
  // ---- end timeline

  return program;
}

/** Runs the CLI on argv (without the executable); returns the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (!argv.length) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    return EXIT.OK;
  } catch (error) {
    if (error instanceof ExitWith) return error.code;
    if (error instanceof CommanderError) {
      // `watch --once` is a Monitoring Plugins check: a usage error is UNKNOWN (3) there.
      if (error.exitCode !== 0 && argv[0] === 'watch' && argv.includes('--once')) return 3;
      // --help and --version end here with exit code 0; usage errors with 1 from commander, ours is 2.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    writeStderr(`ha-agent: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.FINDINGS;
  }
}
