#!/usr/bin/env bash
# Installs the built agents (dist/resource.d, from `npm run build`):
#   /usr/lib/ha-resource-agents/ha-agent          the one executable
#   /usr/sbin/ha-agent                             on the PATH
#   /etc/ha.d/resource.d/{IPaddr,drbddisk,Filesystem,mysqld}   heartbeat v1
#   /usr/lib/ocf/resource.d/hara/{IPaddr,...}      OCF provider "hara" (ocf:hara:IPaddr)
# A stock agent already at a heartbeat path is kept as NAME.stock.
# DESTDIR=/some/root installs into a staging root (packaging, tests).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${SRC:-dist/resource.d}
dest=${DESTDIR:-}
agents=(IPaddr drbddisk Filesystem mysqld)
[ -x "$src/ha-agent" ] || { echo "install: $src/ha-agent is missing; run npm run build first" >&2; exit 5; }

libdir=/usr/lib/ha-resource-agents
install -d "$dest$libdir" "$dest/etc/ha.d/resource.d" "$dest/usr/lib/ocf/resource.d/hara" "$dest/usr/sbin"
install -m 0755 "$src/ha-agent" "$dest$libdir/ha-agent"
# The same layout as the .deb (packaging/package.sh); the package keeps stock scripts as NAME.distrib instead.
ln -sfn "../lib/ha-resource-agents/ha-agent" "$dest/usr/sbin/ha-agent"
for agent in "${agents[@]}"; do
  for dir in /etc/ha.d/resource.d /usr/lib/ocf/resource.d/hara; do
    target="$dest$dir/$agent"
    if [ -e "$target" ] && [ ! -L "$target" ]; then
      mv "$target" "$target.stock"
      echo "install: kept the stock $dir/$agent as $agent.stock"
    fi
    ln -sfn "$libdir/ha-agent" "$target"
  done
done
echo "install: agents in $dest/etc/ha.d/resource.d and $dest/usr/lib/ocf/resource.d/hara"
