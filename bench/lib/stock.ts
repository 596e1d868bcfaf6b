import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The stock side's resource.d: heartbeat's and drbd-utils' scripts as
 * installed, plus bench/stock/mysqld as `mysqld` (the tuned shell group:
 * bench/stock/mysqld-tuned, which polls readiness and stops with SIGTERM). kmod is not installed on
 * these machines and the stock Filesystem agent refuses to run without
 * modprobe, so this copy of hto-mapfuncs (sourced by the IPaddr and
 * Filesystem wrappers) puts a no-op modprobe first in PATH. It also creates
 * /run/resource-agents, which resource-agents' tmpfiles.d entry makes at
 * boot and the rig's empty private /run lacks (without it stock IPaddr
 * start fails and ResourceManager gives the group up). Nothing else changes.
 * Returns the directory (under tmp) and a one-line description for the report.
 */
export function makeStockResourceDir(tmp: string, root: string, side: 'stock' | 'tuned' = 'stock'): { dir: string; description: string } {
  const dir = `${tmp}/${side}-resource.d`;
  mkdirSync(`${dir}/.bench-bin`, { recursive: true });
  for (const name of readdirSync('/etc/ha.d/resource.d')) copyFileSync(`/etc/ha.d/resource.d/${name}`, `${dir}/${name}`);
  if (!existsSync(`${dir}/drbddisk`)) copyFileSync(`${root}/bench/stock/drbddisk`, `${dir}/drbddisk`); // newer drbd-utils dropped it
  copyFileSync(`${root}/bench/stock/${side === 'tuned' ? 'mysqld-tuned' : 'mysqld'}`, `${dir}/mysqld`);
  chmodSync(`${dir}/mysqld`, 0o755);
  writeFileSync(`${dir}/.bench-bin/modprobe`, '#!/bin/sh\n# bench: kmod is not installed here; ext3 is built in\nexit 0\n', { mode: 0o755 });
  const hto = readFileSync(`${dir}/hto-mapfuncs`, 'utf8');
  writeFileSync(
    `${dir}/hto-mapfuncs`,
    `${hto}\n# bench: no kmod on this machine; the stock Filesystem agent needs a modprobe\nPATH=/etc/ha.d/resource.d/.bench-bin:$PATH; export PATH\n` +
      '# bench: what systemd-tmpfiles does at boot (resource-agents.conf); the rig\'s private /run starts empty\n' +
      '[ -d /run/resource-agents ] || mkdir -p -m 1755 /run/resource-agents\n',
  );
  return {
    dir,
    description: 'stock resource.d = /etc/ha.d/resource.d as installed (heartbeat IPaddr/Filesystem wrappers, drbd-utils drbddisk) + bench/stock/mysqld (tuned: + bench/stock/mysqld-tuned); its hto-mapfuncs copy adds a no-op modprobe to PATH and creates /run/resource-agents (systemd-tmpfiles does at boot; the rig\'s /run is empty)',
  };
}
