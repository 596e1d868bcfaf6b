import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { isTerminal, isTerminalDevice, majorOf, writeAll } from '../../../lib/system/stdio.ts';
import { agentPath } from '../../rig/agents.ts';

// lib/system/stdio.ts stands in for process.stdout/stderr and node:tty (too slow to
// load in the Bun binary); it must answer what they answer.

const dir = mkdtempSync(join(tmpdir(), 'stdio-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const charDevice = (rdev: number) => ({ isCharacterDevice: () => true, rdev });

/** glibc's gnu_dev_makedev. */
const makedev = (major: number, minor: number) =>
  Number((BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n));

t.test('majorOf decodes dev_t as glibc does, small and large majors', async (t) => {
  t.equal(majorOf(statSync('/dev/null').rdev), 1, '/dev/null is 1:3');
  t.equal(majorOf(makedev(136, 5)), 136);
  t.equal(majorOf(makedev(4097, 2)), 4097, 'major bits above 12 live above bit 32');
  t.equal(majorOf(makedev(4, 300)), 4, 'a large minor does not leak into the major');
});

t.test('terminal majors are terminals, other devices and files are not', async (t) => {
  t.ok(isTerminalDevice(charDevice(makedev(136, 0))), '/dev/pts/0');
  t.ok(isTerminalDevice(charDevice(makedev(4, 64))), '/dev/ttyS0');
  t.ok(isTerminalDevice(charDevice(makedev(5, 1))), '/dev/console');
  t.notOk(isTerminalDevice(charDevice(makedev(1, 3))), '/dev/null');
  t.notOk(isTerminalDevice({ isCharacterDevice: () => false, rdev: makedev(136, 0) }), 'not a character device');
  t.notOk(isTerminalDevice(statSync('/etc/hostname')), 'a regular file');
});

t.test('isTerminal agrees with node:tty isatty on /dev/null and on a real pty', async (t) => {
  const fd = openSync('/dev/null', 'r');
  t.teardown(() => closeSync(fd));
  t.equal(isTerminal(fd), isatty(fd));
  t.equal(isTerminal(fd), false);
  t.equal(isTerminal(9999), false, 'a closed fd is not a terminal');
  // script(1) runs the command on a fresh pty: stdin is a terminal there.
  const probe = "const fs = require('node:fs'); process.stdout.write(require('node:tty').isatty(0) + ' ' + fs.fstatSync(0).rdev)";
  const out = execFileSync('script', ['-qec', `node -e "${probe}"`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [ttyAnswer, rdev] = out.trim().split(/\s+/);
  t.equal(ttyAnswer, 'true', 'script gave the child a terminal');
  t.ok(isTerminalDevice(charDevice(Number(rdev))), `the pty (major ${majorOf(Number(rdev))}) is known as a terminal`);
  t.equal(isTerminal(0), isatty(0), 'this process: same answer as isatty');
});

t.test('writeAll writes every byte, also when the pipe is full and non-blocking', async (t) => {
  const file = join(dir, 'out');
  const fd = openSync(file, 'w');
  const text = `héllo ${'x'.repeat(200_000)}\n`;
  writeAll(fd, text);
  closeSync(fd);
  t.equal(readFileSync(file, 'utf8'), text);
  // 1 MiB into a non-blocking FIFO (64 KiB buffer) whose reader starts late: EAGAIN is waited out, nothing lost.
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const keepOpen = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const reader = spawn('sh', ['-c', 'sleep 0.3; wc -c < "$1"', 'sh', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let counted = '';
  reader.stdout.on('data', (chunk: Buffer) => (counted += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => reader.on('exit', resolve));
  const began = Date.now();
  writeAll(writeEnd, 'y'.repeat(1 << 20));
  t.ok(Date.now() - began >= 200, 'writeAll had to wait for the reader (the pipe was full)');
  closeSync(writeEnd);
  closeSync(keepOpen);
  t.equal(await exited, 0);
  t.equal(counted.trim(), String(1 << 20));
});

t.test('the shipped agent logs like ocf_log: no date on a terminal, a date otherwise', async (t) => {
  const mnt = join(dir, 'never-mounted');
  const argv = [agentPath('Filesystem'), '/dev/null', mnt, 'ext3', 'stop'];
  const plain = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
  t.equal(plain.status, 0);
  t.match(plain.stderr, /^\w{3} [ \d]\d \d\d:\d\d:\d\d INFO: .*is not mounted/m, 'stdin not a terminal: dated line on stderr');
  const onTty = execFileSync('script', ['-qec', argv.map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  t.match(onTty, /^INFO: .*is not mounted/m, 'stdin a terminal: the bare line, as ocf_log prints it');
});
