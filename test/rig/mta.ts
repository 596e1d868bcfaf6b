import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execaSync } from 'execa';

// A real MTA for the alert tests: Debian's exim4 (exim4-daemon-light) with a
// configuration, spool and mailbox of its own under `dir`, run as
// `exim4 -C CONFIG -odi` behind a `sendmail` wrapper: it accepts the
// message, delivers it at once into DIR/mail/inbox (mbox) and exits. No
// daemon, no listening socket, the host's /etc/exim4 untouched.

export interface Mta {
  dir: string;
  /** A `sendmail` for --sendmail, or first in PATH for alert_smtp.sh. */
  sendmail: string;
  binDir: string;
  mailbox: string;
  /** The mbox split into messages. */
  messages(): string[];
  cleanup(): void;
}

export function startMta(dir: string): Mta {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['spool', 'log', 'mail', 'bin']) mkdirSync(`${dir}/${sub}`, { recursive: true });
  // exim gives up root for -C: it must be able to reach its directories (every parent needs o+x).
  chmodSync(dir, 0o755);
  const user = 'Debian-exim';
  const uid = Number(execaSync('id', ['-u', user]).stdout);
  const gid = Number(execaSync('id', ['-g', user]).stdout);
  for (const sub of ['spool', 'log', 'mail']) chownSync(`${dir}/${sub}`, uid, gid);
  writeFileSync(`${dir}/exim.conf`, `# test MTA: deliver every recipient into one mbox
primary_hostname = watch.test
qualify_domain = watch.test
spool_directory = ${dir}/spool
log_file_path = ${dir}/log/%slog
exim_user = ${user}
exim_group = ${user}
trusted_users = root
daemon_smtp_ports =
keep_environment =
begin routers
everyone:
  driver = accept
  transport = mailbox
begin transports
mailbox:
  driver = appendfile
  file = ${dir}/mail/inbox
  user = ${user}
  group = ${user}
  mode = 0644
`);
  const sendmail = `${dir}/bin/sendmail`;
  writeFileSync(sendmail, `#!/bin/sh\nexec /usr/sbin/exim4 -C ${dir}/exim.conf -odi "$@"\n`);
  chmodSync(sendmail, 0o755);
  const mailbox = `${dir}/mail/inbox`;
  return {
    dir,
    sendmail,
    binDir: `${dir}/bin`,
    mailbox,
    messages: () => (existsSync(mailbox) ? readFileSync(mailbox, 'utf8').split(/^(?=From \S+ )/m).filter(Boolean) : []),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
