#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh
# Debian 12 machine (run as root). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mariadb-server mariadb-client heartbeat resource-agents drbd-utils psmisc iproute2 arping
  e2fsprogs xfsprogs libxml2-utils util-linux procps hyperfine python3 kmod gdb perl
  crmsh pacemaker-cli-utils pacemaker corosync
  dpkg-dev lintian rpm man-db binutils file debootstrap qemu-user
  nftables iptables exim4-daemon-light bsd-mailx prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their services on the host: tests start their own, in sandboxes.
  policy=/usr/sbin/policy-rc.d
  created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$created_policy" ] && rm -f "$policy"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
