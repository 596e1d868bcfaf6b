#!/bin/bash
# Runs the shipped ocft case file for mysql against our mysqld agent, in a
# sandbox, with only its Agent/AgentRoot lines changed.
#
# Start it only as (test/ocf/mysqld-ocft.test.ts does):
#   unshare --mount --net --propagation slave -- bash ocft-mysqld-sandbox.sh WORK AGENTS_DIR
# The case file works on the system's MariaDB (default config, /var/lib/mysql,
# /run/mysqld, TCP 127.0.0.1:3306) and writes its generated scripts to
# /var/lib/resource-agents/ocft. In this private mount + network namespace
# those are tmpfs mounts holding a freshly initialised datadir, the server's
# port exists only on this namespace's loopback, and nothing on the host is
# written except under WORK.
#
# Two host facts the case file assumes do not hold in a sandbox, so stubs
# stand in for them (bind-mounted in this namespace only; both are regular
# files on Debian 12, so the bind lands on them and not on a link target):
#   - SETUP-AGENT runs `systemctl start/stop mysql.service`: systemd is not
#     PID 1 here ("offline"); the stub logs the call and succeeds.
#   - CONFIG's `InstallPackage default-mysql-server` runs apt-get install:
#     the stub installs nothing; it succeeds only when the package, or for
#     default-mysql-server its target mariadb-server, is already installed.
set -euo pipefail
WORK=$1
AGENTS=$2
log() { echo "sandbox: $*" >&2; }

# Slave, not private: our mounts stay in here, and the host's unmounts reach our copies of its mounts
# (a private copy of another test's loop mount would keep that device busy until we exit).
mount --make-rslave /
ip link set lo up

mkdir -p "$WORK/stubs" "$WORK/configs"
cat >"$WORK/stubs/systemctl" <<EOF
#!/bin/bash
echo "systemctl \$*" >>"$WORK/stub-calls.log"
case "\$1" in
  list-unit-files) echo "mysql.service alias -" ;;
esac
exit 0
EOF
cat >"$WORK/stubs/apt-get" <<EOF
#!/bin/bash
echo "apt-get \$*" >>"$WORK/stub-calls.log"
[ "\$1" = "-y" ] && shift
[ "\$1" = install ] || exit 1
shift
for pkg in "\$@"; do
  if dpkg -s "\$pkg" >/dev/null 2>&1; then continue; fi
  if [ "\$pkg" = default-mysql-server ] && dpkg -s mariadb-server >/dev/null 2>&1; then continue; fi
  exit 1
done
exit 0
EOF
chmod 755 "$WORK/stubs/systemctl" "$WORK/stubs/apt-get"
mount --bind "$WORK/stubs/systemctl" /usr/bin/systemctl
mount --bind "$WORK/stubs/apt-get" /usr/bin/apt-get
[ "$(cat /usr/bin/systemctl | head -c 11)" = '#!/bin/bash' ] || { log "systemctl stub not in place"; exit 1; }
[ "$(cat /usr/bin/apt-get | head -c 11)" = '#!/bin/bash' ] || { log "apt-get stub not in place"; exit 1; }

# The system server's places, private and fresh.
mount -t tmpfs -o mode=755 ocft-mysql /var/lib/mysql
chown mysql:mysql /var/lib/mysql
mkdir -p /run/mysqld
mount -t tmpfs -o mode=755 ocft-run-mysqld /run/mysqld
chown mysql:mysql /run/mysqld
mkdir -p /var/lib/resource-agents/ocft
mount -t tmpfs -o mode=755 ocft-cases /var/lib/resource-agents/ocft
# The bootstrap server runs as mysql: it must reach its tmpdir, not the shared /tmp.
chmod 755 "$WORK"
mkdir -p "$WORK/tmp" && chown mysql:mysql "$WORK/tmp"
mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db --innodb-log-file-size=4M --tmpdir="$WORK/tmp" >"$WORK/install-db.log" 2>&1 || { log "mariadb-install-db failed"; cat "$WORK/install-db.log" >&2; exit 1; }

# The shipped case file with only Agent and AgentRoot changed.
sed -e 's|^\(\s*\)Agent mysql$|\1Agent mysqld|' -e "s|^\(\s*\)AgentRoot .*|\1AgentRoot $AGENTS|" \
  /usr/share/resource-agents/ocft/configs/mysql >"$WORK/configs/mysqld"
diff /usr/share/resource-agents/ocft/configs/mysql "$WORK/configs/mysqld" >"$WORK/config.diff" || true

ocft make -d "$WORK/configs" mysqld
status=0
ocft test mysqld || status=$?
cp -r /var/lib/resource-agents/ocft/cases/logs "$WORK/ocft-logs" 2>/dev/null || true

# Whatever the cases left running on the sandbox datadir: ended by PID
# (servers whose cwd is /var/lib/mysql in this mount namespace).
for p in /proc/[0-9]*; do
  exe=$(readlink "$p/exe" 2>/dev/null || true)
  case "$exe" in */mariadbd|*/mysqld)
    [ "$(readlink "$p/cwd" 2>/dev/null)" = /var/lib/mysql ] && [ "$(readlink "$p/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ] && kill -9 "${p#/proc/}" && log "left running: ${p#/proc/}" ;;
  esac
done
exit $status
