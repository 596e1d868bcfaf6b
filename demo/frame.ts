// What every demo (demo.ts, pacemaker.ts, split-brain.ts) does around its
// scenarios: lines stamped from the start, tables in columns, one teardown
// of the cluster whatever ends the run (done, an error, Ctrl-C, SIGTERM),
// and the exit code. Each demo keeps only what it shows.

const t0 = Date.now();

/** A line stamped with the seconds since the demo started. */
export const say = (line: string): void => console.log(`+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${line}`);

/** Milliseconds as "1.2 s", or "-" when there is no value. */
export const secs = (ms?: number): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** The first row is the header, underlined; every column as wide as its widest cell. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row, n) => {
    const line = row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
    return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

export interface Teardownable {
  destroy(): Promise<void>;
}

/**
 * Runs a demo and exits with what `main` returns (1 if it throws). `track`
 * hands over the cluster once it exists; it is torn down exactly once: after
 * main, after an error (printed), or on SIGINT/SIGTERM (exit 130).
 */
export async function runDemo(main: (track: (cluster: Teardownable) => void) => Promise<number>): Promise<never> {
  let cluster: Teardownable | undefined;
  let tearingDown: Promise<void> | undefined;
  // One teardown: a signal during the final one waits for it instead of exiting half-way.
  const teardown = () => (tearingDown ??= (async () => {
    if (!cluster) return;
    say('tearing down: nodes, namespaces, loop device, files');
    await cluster.destroy().catch((e) => console.error(`teardown: ${e}`));
  })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void teardown().then(() => process.exit(130)));
  let exitCode = 1;
  try {
    exitCode = await main((c) => { cluster = c; });
  } catch (error) {
    console.error(`demo: ${error instanceof Error ? error.stack ?? error.message : error}`);
  } finally {
    await teardown();
  }
  process.exit(exitCode);
}

/** --keep: waits for Enter on a terminal; without one only a signal ends it (and the signal handlers tear down). */
export function waitForEnter(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!process.stdin.isTTY) return;
    process.stdin.resume();
    process.stdin.once('data', () => resolve());
  });
}
