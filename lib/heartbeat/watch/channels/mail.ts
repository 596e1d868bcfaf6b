import type { WatchEvent } from '../events.ts';
import { alertDescription } from './hooks.ts';

// --mail-to ADDR: one mail per raise or clear, handed to the system's
// `sendmail -t` (every MTA ships one: exim4, postfix, msmtp), as DRBD's
// notify-split-brain.sh and heartbeat's MailTo hand theirs to `mail`.

/** Header values: no line breaks (a description never starts a new header). */
const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');

export function mailMessage(event: WatchEvent, to: readonly string[], from?: string): string {
  const subject = `[${event.severity.toUpperCase()}] ${event.node}: ${event.code} ${event.state}: ${event.desc}`;
  const s = event.subject;
  const about = Object.entries(s).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return [
    ...(from ? [`From: ${oneLine(from)}`] : []),
    `To: ${to.map(oneLine).join(', ')}`,
    `Subject: ${oneLine(subject).slice(0, 900)}`,
    'Content-Type: text/plain; charset=utf-8',
    `X-HA-Alert-Code: ${event.code}`,
    `X-HA-Alert-State: ${event.state}`,
    '',
    alertDescription(event),
    '',
    `Node:     ${event.node}`,
    `Time:     ${event.at.toISOString()}`,
    `Sequence: ${event.sequence}`,
    ...about.map((line) => `${line}`),
    '',
    `Fix: ${event.fix}`,
    '',
    '-- ',
    'ha-agent watch',
    '',
  ].join('\n');
}
