#!/usr/bin/env bash
# npm run bench: our agents against the stock ones, side by side, one run.
#
#   bash bench/run.sh [--quick] [--no-build] [--agents DIR] [--only IPaddr,mysqld,...]
#                     [--no-cluster] [--startup]
#
#   --quick       small samples (smoke test of the bench itself; numbers are rough)
#   --no-build    use dist/resource.d as it is (default: npm run build first)
#   --agents DIR  measure the agents built in DIR (implies --no-build)
#   --only LIST   per-agent rows for these agents only
#   --no-cluster  skip the ResourceManager group and two-node failover rows
#   --no-failover skip only the two-node failover rows
#   --no-split-brain skip the split-brain rows (stock and ours, ~4 min; writes bench/results/split-brain.md)
#   --group-rounds N / --failover-cycles N   samples for the slow rows (default 5 / 5)
#   --startup     afterwards, also run bench/startup.sh (build choice, writes bench/STARTUP.md)
#   --no-pacemaker skip the three-node Pacemaker rows (bench/pacemaker-phase.ts → bench/results/pacemaker.md)
#   --pacemaker-rounds N  cluster lifetimes per side for the Pacemaker rows (default 2)
#   --no-watch    skip the ha-agent watch rows (detection per fault, the watcher's cost; bench/results/watch.md)
#   --watch-runs N / --watch-minutes M   rounds of the faults (default 5) / minutes of the cost measure (default 10)
#
# Prints a Markdown table and writes bench/results/latest.md and latest.json
# (a --quick run writes bench/results/quick.md and quick.json instead).
# Needs root: everything that touches the network happens in two network
# namespaces made here (198.18.0.0/15), the loop image and MariaDB live in a
# temporary directory; all of it is removed on exit, also on failure or ^C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

quick=() only=() cluster_opts=() build=1 agents=$ROOT/dist/resource.d cluster=1 startup=0 split_brain=1 pacemaker=1 pcmk_opts=() watch=1 watch_opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=(--quick) ;;
    --no-build) build=0 ;;
    --agents) agents=$(realpath "$2"); build=0; shift ;;
    --only) only=(--only "$2"); shift ;;
    --no-cluster) cluster=0 ;;
    --no-failover) cluster_opts+=(--no-failover) ;;
    --no-split-brain) split_brain=0 ;;
    --no-watch) watch=0 ;;
    --watch-runs|--watch-minutes) watch_opts+=("--${1#--watch-}" "$2"); shift ;;
    --group-rounds|--failover-cycles) cluster_opts+=("$1" "$2"); shift ;;
    --startup) startup=1 ;;
    --no-pacemaker) pacemaker=0 ;;
    --pacemaker-rounds) pcmk_opts+=("$1" "$2"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root (network namespaces, loop devices, MariaDB as user mysql)" >&2; exit 1; }
for tool in hyperfine ip losetup mkfs.ext3 mariadb-install-db /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (apt-get install hyperfine iproute2 util-linux e2fsprogs mariadb-server time)" >&2; exit 1; }
done

BUN=$ROOT/node_modules/.bin/bun
[ -x "$BUN" ] || { echo "bench/run.sh: $BUN missing: run npm ci" >&2; exit 1; }
if [ "$build" = 1 ]; then
  echo "bench: building dist/resource.d" >&2
  bash packaging/build.sh >&2
fi
[ -x "$agents/IPaddr" ] || { echo "bench/run.sh: no built agents in $agents" >&2; exit 1; }

TMP=$(mktemp -d /tmp/hbbench.XXXXXX)
chmod 755 "$TMP"   # MariaDB runs as mysql and must reach its files under here
NS=hbb$$n
PEER=hbb$$p
STARTED=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

cleanup() {
  local rc=$?
  set +e
  # Processes the bench started and left behind (a mysqld, a send_arp, a
  # sandbox node's init): only those living in its network namespaces or
  # whose command line or environment names this run's temporary directory;
  # by PID. Killing a sandbox's PID-namespace init ends everything inside it.
  local pids p
  # The running phase first (its own cleanup cannot run once it is killed).
  if [ -n "$PHASE_PID" ] && kill -0 "$PHASE_PID" 2>/dev/null; then
    kill "$PHASE_PID" 2>/dev/null; sleep 1; kill -9 "$PHASE_PID" 2>/dev/null
  fi
  pids=$( { for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^($NS|$PEER|hae-bn$$-.*|bp$$.*)$"); do ip netns pids "$ns" 2>/dev/null; done
            for p in /proc/[0-9]*; do
              { tr '\0' '\n' 2>/dev/null <"$p/cmdline"; tr '\0' '\n' 2>/dev/null <"$p/environ"; } | grep -qF "$TMP/" && echo "${p#/proc/}"
            done; } | sort -u | grep -vx -e "$$" -e "$BASHPID")
  if [ -n "$pids" ]; then
    echo "bench: stopping leftover processes: $(echo $pids)" >&2
    kill $pids 2>/dev/null; sleep 2; kill -9 $pids 2>/dev/null; sleep 0.5
  fi
  # Mounts lived in private mount namespaces and died with them; loop
  # devices do not: detach those backed by files of this run.
  losetup -l -n -O NAME,BACK-FILE 2>/dev/null | while read -r dev file; do
    case $file in "$TMP"/*) losetup -d "$dev" ;; esac
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^($NS|$PEER|hae-bn$$-.*|bp$$.*)$"); do ip netns del "$ns"; done
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Phases run in the background and are waited for: bash runs the INT/TERM
# trap (and so the cleanup) at once during `wait`, not after a foreground
# child finished. The cleanup then stops the phase's processes.
PHASE_PID=
phase() { "$@" & PHASE_PID=$!; wait $PHASE_PID; }

# Node namespace: eth1 like the tutorial's internal LAN; a peer namespace on
# the other end of the veth so ARP has somewhere to go. Created inside the
# namespaces, never in the root one.
ip netns add "$NS"
ip netns add "$PEER"
ip -n "$NS" link set lo up
ip -n "$PEER" link set lo up
ip -n "$NS" link add eth1 type veth peer name eth1p netns "$PEER"
ip -n "$NS" addr add 198.18.4.2/16 dev eth1
ip -n "$PEER" addr add 198.18.4.4/16 dev eth1p
ip -n "$NS" link set eth1 up
ip -n "$PEER" link set eth1p up

# The per-agent phase: in the node's network namespace (ip netns exec also
# gives it a private mount namespace) and its own PID namespace, so the
# stock init script's `pidof mysqld` sees only this bench's servers, and
# everything the phase started ends with it.
echo "bench: per-agent rows (status, start, stop) in netns $NS" >&2
HOST_NS="$(readlink /proc/self/ns/net) $(readlink /proc/self/ns/mnt)" \
  phase ip netns exec "$NS" unshare --pid --fork --mount-proc --propagation slave --kill-child "$BUN" bench/agents-phase.ts --tmp "$TMP" --agents "$agents" --out "$TMP/agents.json" "${quick[@]}" "${only[@]}" \
  || echo "bench: the per-agent phase failed (rows it did not reach are missing)" >&2

if [ "$cluster" = 1 ]; then
  echo "bench: ResourceManager group and two-node failover rows" >&2
  phase "$BUN" bench/cluster-phase.ts --tmp "$TMP" --agents "$agents" --id "bn$$" --out "$TMP/cluster.json" "${quick[@]}" "${cluster_opts[@]}" \
    || echo "bench: the cluster phase failed" >&2
fi
if [ "$cluster" = 1 ] && [ "$split_brain" = 1 ]; then
  echo "bench: split-brain rows (stock and ours side by side)" >&2
  phase "$BUN" bench/split-brain-phase.ts --tmp "$TMP" --agents "$agents" --id "bn$$-sb" --out "$TMP/split-brain.json" "${quick[@]}" \
    || echo "bench: the split-brain phase failed" >&2
fi

if [ "$cluster" = 1 ] && [ "$watch" = 1 ]; then
  echo "bench: ha-agent watch rows (detection per fault, the watcher's CPU and RSS; bench/results/watch.md)" >&2
  phase "$BUN" bench/watch-phase.ts --tmp "$TMP" --agents "$agents" --id "bn$$-w" --out "$TMP/watch.json" "${quick[@]}" "${watch_opts[@]}" \
    || echo "bench: the watch phase failed" >&2
fi

if [ "$pacemaker" = 1 ]; then
  echo "bench: Pacemaker rows (three nodes, ours and stock; bench/results/pacemaker.md)" >&2
  phase "$BUN" bench/pacemaker-phase.ts --tmp "$TMP" --agents "$agents" --id "bp$$" --out "$TMP/pacemaker.json" "${quick[@]}" "${pcmk_opts[@]}" \
    || echo "bench: the Pacemaker phase failed" >&2
fi

"$BUN" bench/report.ts --tmp "$TMP" --agents "$agents" --seconds $(( $(date +%s) - STARTED )) --load-start "$LOAD_START" "${quick[@]}"

if [ "$startup" = 1 ]; then
  bash bench/startup.sh "${quick[@]}"
fi
