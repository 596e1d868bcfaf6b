#!/usr/bin/env bash
# `npm run demo`: the tutorial's two-node Heartbeat + DRBD + MySQL cluster on
# this machine, in sandboxes (network/mount/PID namespaces, private roots),
# driven by the stock heartbeat daemon and our agents. Builds, runs the
# failover / failback / crash scenarios with a client writing through the VIP
# and a replica following it, prints a timeline and a verdict, tears down.
#   --keep   leave the cluster up afterwards (until Enter / Ctrl-C) to look inside
#   --split-brain   instead: the heartbeat link fails while both nodes are up (tutorial's last section)
#   --pacemaker  the three-node Pacemaker + Corosync version (crm-config, fencing)
set -euo pipefail
cd "$(dirname "$0")/.."

demo=demo/demo.ts
for arg in "$@"; do
  case $arg in
    --keep) ;;
    --split-brain) demo=demo/split-brain.ts ;;
    --pacemaker) demo=demo/pacemaker.ts ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (it creates network namespaces, a loop device and private mounts)" >&2
  exit 1
fi

bash test/install-deps.sh
echo "demo: building the agents"
npm run --silent build
export HA_AGENTS_DIR=${HA_AGENTS_DIR:-$PWD/dist/resource.d}
# Bun runs the TypeScript harness directly (it is a dev dependency already).
exec ./node_modules/.bin/bun "${demo:-demo/demo.ts}" "$@"
