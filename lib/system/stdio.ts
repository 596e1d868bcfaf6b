import { fstatSync, writeSync } from 'node:fs';

// An agent writes a line or two and exits. In the Bun-compiled binary the
// first touch of process.stdout, process.stderr or node:tty builds Node's
// stream and tty machinery: ~17–24 ms each, more than the whole rest of a
// `status` call (bench/STARTUP.md). Plain write(2) on fds 1 and 2 and an
// fstat for "is stdin a terminal" cost well under a millisecond.

const EAGAIN_WAIT_MS = 2;
const EAGAIN_GIVE_UP_MS = 10_000;

/** write(2) until all of `text` is out; waits out EAGAIN on a non-blocking pipe we inherited. */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  let blockedSince = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
      blockedSince = 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      const now = Date.now();
      blockedSince ||= now;
      if (now - blockedSince > EAGAIN_GIVE_UP_MS) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_WAIT_MS);
    }
  }
}

export function writeStdout(text: string): void {
  writeAll(1, text);
}

/** stderr is where we explain failures; a reader that went away must not turn that into a crash. */
export function writeStderr(text: string): void {
  try {
    writeAll(2, text);
  } catch {
    // Nobody is listening; the log files (if any) still get the line.
  }
}

// Character-device majors of terminals (Documentation/admin-guide/devices.txt):
// 4 virtual consoles and ttyS, 5 /dev/tty, /dev/console and ptmx, 136–143
// Unix98 pty slaves (/dev/pts/N), 166 ttyACM, 188 ttyUSB, 204 low-density
// serial, 229 hvc (hypervisor consoles).
const TERMINAL_MAJORS = new Set([4, 5, 136, 137, 138, 139, 140, 141, 142, 143, 166, 188, 204, 229]);

/** Linux dev_t → major number (glibc's gnu_dev_major). */
export function majorOf(rdev: number): number {
  const big = BigInt(rdev);
  return Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
}

/** What `[ -t fd ]` answers, from the device number instead of a TCGETS ioctl. */
export function isTerminalDevice(stat: { isCharacterDevice(): boolean; rdev: number }): boolean {
  return stat.isCharacterDevice() && TERMINAL_MAJORS.has(majorOf(stat.rdev));
}

export function isTerminal(fd: number): boolean {
  try {
    return isTerminalDevice(fstatSync(fd));
  } catch {
    return false;
  }
}
