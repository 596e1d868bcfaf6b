#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh
# Debian 12 machine (run as root). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(mariadb-server mariadb-client heartbeat resource-agents drbd-utils psmisc iproute2 arping
  e2fsprogs xfsprogs libxml2-utils util-linux procps hyperfine python3 kmod gdb perl
  crmsh pacemaker-cli-utils pacemaker corosync
  dpkg-dev lintian rpm man-db binutils file debootstrap qemu-user
  gcc libc6-dev strace
  nftables iptables exim4-daemon-light bsd-mailx prometheus
  chromium)  # chromium: ha-agent timeline --html, the page tested in a real headless browser (playwright-core)
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

# iputils' arping (what RHEL/CentOS ship) conflicts with Habets' `arping`
# installed above: only its .deb is kept, in test/.cache; the arping tests
# extract it (dpkg-deb -x) and bind it over arping in their mount namespace.
iputils_cache=test/.cache/iputils-arping
if ! compgen -G "$iputils_cache/iputils-arping_*.deb" >/dev/null; then
  echo "install-deps: apt-get download iputils-arping"
  mkdir -p "$iputils_cache"
  (cd "$iputils_cache" && { apt-get download -qq iputils-arping 2>/dev/null || { apt-get update -qq && apt-get download -qq iputils-arping; }; })
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
