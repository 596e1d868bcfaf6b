#!/bin/bash
# Builds a private root for one sandboxed "node" and becomes its init.
#
# Run it only through test/rig/sandbox.ts, which starts it as
#   [ip netns exec NS] unshare --mount --uts --pid --fork --propagation slave -- bash sandbox-root.sh
# so every mount below lives in a mount namespace nobody else sees, and
# killing this script's PID-namespace init (host side) ends everything the
# node ever started and drops every mount with it. Nothing on the host is
# written except under SBX_WORK.
#
# Environment (set by sandbox.ts):
#   SBX_WORK      work directory (root/ mountpoint, log/, overlay upper dirs)
#   SBX_HOSTNAME  node name (uname -n inside; heartbeat's node name)
#   SBX_AGENTS    directory bind-mounted read-only as /etc/ha.d/resource.d
#   SBX_LOGDIR    host directory that is /var/log inside (default SBX_WORK/log)
#   SBX_DEVS      "name:b|c:major:minor ..." extra nodes under /dev (e.g. drbd1:b:7:3)
#   SBX_BINDS     "hostpath=>innerpath[=>ro] ..." extra bind mounts (shared state)
set -euo pipefail

W=$SBX_WORK
R=$W/root
fail() { echo "sandbox-root: $*" >&2; echo "FAILED: $*" >"$W/status"; exit 1; }

hostname "$SBX_HOSTNAME"
# Slave, not private: our mounts stay in here, and the host's unmounts reach our copies of its mounts
# (a private copy of another test's loop mount would keep that device busy until we exit).
mount --make-rslave /

mount -t tmpfs -o mode=755 sbx-root "$R"
mkdir -p "$R"/{usr,etc,proc,sys,dev,run,tmp,var,data,root,home}
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
[ -d /usr/lib64 ] && ln -s usr/lib64 "$R/lib64"

mount --bind /usr "$R/usr"
mount -o remount,bind,ro "$R/usr"

# /sbin/reboot, /sbin/init, /sbin/shutdown, halt, poweroff are symlinks to
# systemctl/systemd here and /usr/bin/pkill one to pgrep: a bind mount over
# such a link would land on its target. Overlays on /usr/sbin and /usr/bin
# whose upper layer (in SBX_WORK) holds the stubs as regular files replace
# the links themselves, inside this root only.
stub() {
  cat >"$1" <<'EOF'
#!/bin/sh
# ha-resource-agents sandbox stub: logs the call, does nothing else.
echo "$(date +%s.%N) $(basename "$0") $*" >>/var/log/stub-calls.log
exit 0
EOF
  chmod 755 "$1"
}
mkdir -p "$W"/{up-sbin,wk-sbin,up-bin,wk-bin,up-etc,wk-etc,log}
for name in reboot init shutdown halt poweroff; do stub "$W/up-sbin/$name"; done
for name in pkill killall; do stub "$W/up-bin/$name"; done
mount -t overlay sbx-sbin -o "lowerdir=/usr/sbin,upperdir=$W/up-sbin,workdir=$W/wk-sbin" "$R/usr/sbin"
mount -t overlay sbx-bin -o "lowerdir=/usr/bin,upperdir=$W/up-bin,workdir=$W/wk-bin" "$R/usr/bin"

# /etc: the host's, overlaid; sandbox.ts has put ha.cf, haresources,
# authkeys, my.cnf ... in the upper layer already.
mount -t overlay sbx-etc -o "lowerdir=/etc,upperdir=$W/up-etc,workdir=$W/wk-etc" "$R/etc"
echo "$SBX_HOSTNAME" >"$R/etc/hostname"
mkdir -p "$R/etc/ha.d/resource.d"
mount --bind "$SBX_AGENTS" "$R/etc/ha.d/resource.d"
mount -o remount,bind,ro "$R/etc/ha.d/resource.d"

mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"

mount -t tmpfs -o mode=755 sbx-dev "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/zero" c 1 5
mknod -m 666 "$R/dev/full" c 1 7
mknod -m 666 "$R/dev/random" c 1 8
mknod -m 666 "$R/dev/urandom" c 1 9
mknod -m 666 "$R/dev/tty" c 5 0
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir -p "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=1777 sbx-shm "$R/dev/shm"
for spec in ${SBX_DEVS:-}; do
  IFS=: read -r name type major minor <<<"$spec"
  mknod -m 660 "$R/dev/$name" "$type" "$major" "$minor"
done

mount -t tmpfs -o mode=755 sbx-run "$R/run"
install -d -m 0750 -o hacluster -g haclient "$R/run/heartbeat" "$R/run/heartbeat/ccm" "$R/run/heartbeat/crm" "$R/run/heartbeat/dopd" "$R/run/crm"
install -d -m 1777 "$R/run/lock"
install -d -m 0755 -o mysql -g mysql "$R/run/mysqld"
mount -t tmpfs -o mode=1777 sbx-tmp "$R/tmp"
mount -t tmpfs -o mode=755 sbx-var "$R/var"
mkdir -p "$R/var/lib" "$R/var/log" "$R/var/tmp" "$R/var/cache"
chmod 1777 "$R/var/tmp"
ln -s /run "$R/var/run"
ln -s /run/lock "$R/var/lock"
cp -a /var/lib/heartbeat "$R/var/lib/heartbeat"
mount --bind "${SBX_LOGDIR:-$W/log}" "$R/var/log"

for spec in ${SBX_BINDS:-}; do
  src=${spec%%=>*}
  rest=${spec#*=>}
  dst=${rest%%=>*}
  if [ -d "$src" ]; then mkdir -p "$R$dst"; else mkdir -p "$(dirname "$R$dst")"; touch "$R$dst"; fi
  mount --bind "$src" "$R$dst"
  case $rest in *'=>ro') mount -o remount,bind,ro "$R$dst" ;; esac
done

# Nothing runs before every stub is verified in place: right path after
# symlink resolution, and our content.
for path in /sbin/reboot /sbin/init /sbin/shutdown /sbin/halt /sbin/poweroff /usr/bin/pkill /usr/bin/killall /bin/pkill /usr/sbin/reboot; do
  real=$(chroot "$R" /usr/bin/realpath "$path") || fail "realpath $path"
  case $real in /usr/sbin/*|/usr/bin/*) ;; *) fail "$path resolves to $real" ;; esac
  [ -L "$R$real" ] && fail "$path is still a symlink"
  grep -q 'ha-resource-agents sandbox stub' "$R$real" || fail "$path ($real) is not our stub"
done
chroot "$R" /usr/bin/test -x /sbin/reboot || fail "/sbin/reboot stub not executable"

echo ready >"$W/status"
# PID 1 of this namespace: reaps orphans (heartbeat daemonises, mysqld is
# started detached), so a dead process is really gone for kill(pid, 0).
# With no child left, waitpid returns at once: poll every 50 ms rather than 1 s
# so an orphan that exits meanwhile is reaped promptly.
exec chroot "$R" /usr/bin/perl -e '$SIG{TERM} = sub { exit 0 }; while (1) { select(undef, undef, undef, 0.05) if waitpid(-1, 0) < 0 }'
