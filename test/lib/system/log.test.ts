import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Logger, formatHaDate, type Priority } from '../../../lib/system/log.ts';

// Our lines against the ones resource-agents' own ha_log/ocf_log writes for
// the same message, in the same environment, at the same (frozen) instant.

const SHELLFUNCS = '/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs';
const FROZEN = new Date('2026-11-25T03:04:05');
const FROZEN_EPOCH = Math.floor(FROZEN.getTime() / 1000);

const dir = mkdtempSync(join(tmpdir(), 'log-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// A `date` that always answers for FROZEN, and a `logger` that records its argv.
const stubs = join(dir, 'bin');
execFileSync('mkdir', ['-p', stubs]);
writeFileSync(join(stubs, 'date'), `#!/bin/sh\nexec /bin/date -d @${FROZEN_EPOCH} "$@"\n`);
writeFileSync(join(stubs, 'logger'), `#!/bin/sh\nfor a in "$@"; do printf '%s|' "$a"; done >> "$LOGGER_RECORD"; echo >> "$LOGGER_RECORD"\n`);
chmodSync(join(stubs, 'date'), 0o755);
chmodSync(join(stubs, 'logger'), 0o755);

interface Case {
  name: string;
  env: Record<string, string>;
  priority: Priority;
}

const cases: Case[] = [
  { name: 'HA_LOGFILE only', env: { HA_LOGFILE: 'LOGFILE' }, priority: 'info' },
  { name: 'HA_DEBUGLOG only', env: { HA_DEBUGLOG: 'DEBUGLOG' }, priority: 'err' },
  { name: 'both files', env: { HA_LOGFILE: 'LOGFILE', HA_DEBUGLOG: 'DEBUGLOG' }, priority: 'warn' },
  { name: 'same file for both', env: { HA_LOGFILE: 'LOGFILE', HA_DEBUGLOG: 'LOGFILE' }, priority: 'info' },
  { name: 'syslog facility and debuglog', env: { HA_LOGFACILITY: 'daemon', HA_DEBUGLOG: 'DEBUGLOG' }, priority: 'err' },
  { name: 'facility none means no syslog', env: { HA_LOGFACILITY: 'none', HA_LOGFILE: 'LOGFILE' }, priority: 'crit' },
  { name: 'heartbeat date format', env: { HA_LOGFILE: 'LOGFILE', HA_DEBUGLOG: 'DEBUGLOG', HA_DATEFMT: '%Y/%m/%d_%T ' }, priority: 'info' },
  { name: 'debug with HA_debug=1', env: { HA_DEBUGLOG: 'DEBUGLOG', HA_debug: '1' }, priority: 'debug' },
  { name: 'debug with HA_debug=0 is dropped', env: { HA_DEBUGLOG: 'DEBUGLOG', HA_debug: '0' }, priority: 'debug' },
  { name: 'resource instance in the tag', env: { HA_LOGFILE: 'LOGFILE', OCF_RESOURCE_INSTANCE: 'vip' }, priority: 'info' },
];

function materialise(env: Record<string, string>, side: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) out[k] = v === 'LOGFILE' || v === 'DEBUGLOG' ? join(dir, `${side}-${v}`) : v;
  out.LOGGER_RECORD = join(dir, `${side}-SYSLOG`);
  return out;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '<none>');

let n = 0;
for (const c of cases) {
  t.test(c.name, async (t) => {
    n++;
    const message = `address 198.18.4.${n} added to eth1:0`;
    const shellEnv = materialise(c.env, `sh${n}`);
    const oursEnv = materialise(c.env, `ts${n}`);
    // The shell side: ocf_log as a stock agent calls it, tag forced to the same PID-free value.
    const shell = execFileSync('sh', ['-c', `. ${SHELLFUNCS}; __SCRIPT_NAME=IPaddr; ocf_log ${c.priority} "$MSG"`], {
      env: { PATH: `${stubs}:/usr/sbin:/usr/bin:/sbin:/bin`, MSG: message, ...shellEnv, HA_LOGTAG: shellTag(c) },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    let oursStderr = '';
    const logger = new Logger();
    const savedPath = process.env.PATH;
    process.env.PATH = `${stubs}:${savedPath}`;
    process.env.LOGGER_RECORD = oursEnv.LOGGER_RECORD;
    try {
      logger.configure({
        name: 'IPaddr',
        env: { ...oursEnv, HA_LOGTAG: shellTag(c) },
        stdinIsTty: false,
        now: () => FROZEN,
        sink: {
          append: (target, line) => (target === 'stderr' ? (oursStderr += line) : require_append(target, line)),
          syslog: (tag, priority, msg) => {
            execFileSync('logger', ['-t', tag, '-p', priority, msg], { env: { ...process.env } });
          },
        },
      });
      logger.log(c.priority, message);
    } finally {
      process.env.PATH = savedPath;
    }
    t.equal(shell, '', 'ocf_log writes nothing to stdout');
    for (const file of ['LOGFILE', 'DEBUGLOG', 'SYSLOG']) {
      t.equal(read(join(dir, `ts${n}-${file}`)), read(join(dir, `sh${n}-${file}`)), `${file} identical`);
    }
  });
}

// Same tag on both sides; the PID-bearing default tag is checked separately below.
function shellTag(c: Case): string {
  return c.env.OCF_RESOURCE_INSTANCE ? `IPaddr(${c.env.OCF_RESOURCE_INSTANCE})[4242]` : 'IPaddr[4242]';
}

function require_append(target: string, line: string): void {
  writeFileSync(target, line, { flag: 'a' });
}

t.test('stderr when nothing is configured matches ha_log', async (t) => {
  const shell = execFileSync('sh', ['-c', `. ${SHELLFUNCS}; ocf_log info "hello there" 2>&1`], {
    env: { PATH: `${stubs}:/usr/bin:/bin`, HA_DATEFMT: '%Y/%m/%d_%T ' },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  let ours = '';
  const logger = new Logger();
  logger.configure({ name: 'IPaddr', env: { HA_DATEFMT: '%Y/%m/%d_%T ' }, stdinIsTty: false, now: () => FROZEN, sink: { append: (_t, l) => (ours += l), syslog: () => {} } });
  logger.info('hello there');
  t.equal(ours, shell);
});

t.test('default tag is NAME[PID]; heartbeat\'s HA_DATEFMT gives its familiar lines', async (t) => {
  const lines: Record<string, string> = {};
  const logger = new Logger();
  logger.configure({
    name: 'drbddisk',
    env: { HA_DEBUGLOG: '/debug', HA_DATEFMT: '%Y/%m/%d_%T ' },
    stdinIsTty: false,
    now: () => FROZEN,
    sink: { append: (target, l) => (lines[target] = (lines[target] ?? '') + l), syslog: () => {} },
  });
  logger.info('promoted');
  t.same(lines, {
    stderr: '2026/11/25_03:04:05 INFO: promoted\n',
    '/debug': `drbddisk[${process.pid}]:\t2026/11/25_03:04:05 INFO: promoted\n`,
  });
});

t.test('on a terminal, lines go to stderr only, and an error already printed is not repeated', async (t) => {
  const lines: string[] = [];
  const logger = new Logger();
  logger.configure({ name: 'IPaddr', env: { HA_LOGFILE: '/log' }, stdinIsTty: true, sink: { append: (target, l) => lines.push(`${target}:${l}`), syslog: () => {} } });
  logger.info('added');
  logger.error('failed', { ignoreStderr: true });
  t.same(lines, ['stderr:INFO: added\n']);
});

t.test('formatHaDate', async (t) => {
  const cases: Array<[string, string]> = [
    ['%Y/%m/%d_%T ', '2026/11/25_03:04:05 '],
    ['%b %d %T ', 'Nov 25 03:04:05 '],
    ['%F %H:%M:%S %%', '2026-11-25 03:04:05 %'],
  ];
  for (const [format, expected] of cases) t.equal(formatHaDate(format, FROZEN), expected, format);
  const shell = execFileSync(join(stubs, 'date'), ['+%b %d %T '], { encoding: 'utf8' }).replace(/\n$/, '');
  t.equal(formatHaDate('%b %d %T ', FROZEN), shell, 'same as date(1)');
});

t.test('formatHaDate: GNU date\'s %N and %3N (the rig\'s millisecond timeline)', async (t) => {
  const at = new Date(2026, 10, 25, 3, 4, 5, 67);
  t.equal(formatHaDate('%Y/%m/%d_%T.%3N ', at), '2026/11/25_03:04:05.067 ');
  t.equal(formatHaDate('%T.%N', at), '03:04:05.067000000');
  t.equal(formatHaDate('%6N|%2d', at), '067000|%2d', 'a width only means something for %N');
  // date(1) agrees (the stock agents and ResourceManager stamp their lines with it).
  const ms = execFileSync('date', ['-d', '@1700000000.067', '+%3N'], { encoding: 'utf8' }).trim();
  t.equal(formatHaDate('%3N', new Date(1700000000067)), ms);
});
