// Heartbeat's ResourceManager decides "held" from status *text*:
//   *[Nn][Oo][Tt]\ *[Rr]unning*  -> not held ("not", a space, anything, "running":
//                                   "cannot determine status, may be running" matches)
//   *[Rr]unning*|*OK*            -> held
//   anything else                -> not held
// so the words we print must classify exactly as we mean them.

/** ResourceManager's we_own_resource, as a pure function. */
export function resourceManagerReadsAsHeld(text: string): boolean {
  if (/[Nn][Oo][Tt] .*[Rr]unning/s.test(text)) return false;
  return /[Rr]unning|OK/.test(text);
}

/** The one status line: "running" / "stopped", with a detail in parentheses when it classifies the same. */
export function statusLine(held: boolean, detail?: string): string {
  const word = held ? 'running' : 'stopped';
  if (!detail) return word;
  const cleaned = detail.replace(/[\r\n()]+/g, ' ').replace(/\s+/g, ' ').trim();
  const line = `${word} (${cleaned})`;
  return resourceManagerReadsAsHeld(line) === held ? line : word;
}
