export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` every `intervalMs` until it returns something other than
 * undefined, or until `timeoutMs` has passed (then returns undefined).
 * Polling at a fine interval instead of one long sleep is what keeps a
 * failover chain short.
 */
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  { intervalMs, timeoutMs }: { intervalMs: number; timeoutMs: number },
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result !== undefined) return result;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(intervalMs, left));
  }
}
