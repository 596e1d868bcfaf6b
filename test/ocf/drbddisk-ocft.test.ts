import t from 'tap';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AGENTS_DIR } from '../rig/agents.ts';

// The shipped ocft case file for LINBIT's drbd OCF agent
// (/usr/share/resource-agents/ocft/configs/drbd.linbit), run against our
// drbddisk with only its Agent and AgentRoot lines changed, for drbd 8.3, 8.4
// and 9 formats of the drbdadm double.
//
// The case file drives real DRBD on two hosts: the local one named NAME_1
// (HOSTNAME1 as shipped) and one reached by ssh at IP_2 (IP_ADDRESS2). No
// DRBD module loads here, so the sandbox below (private mount + UTS
// namespaces) provides that world without touching the host:
//   - the drbdadm double bind-mounted over /usr/sbin/drbdadm and drbdsetup,
//     with resource ocft0 on nodes HOSTNAME1 and HOSTNAME2 (the case file's
//     own host names), the peer up, Secondary and UpToDate;
//   - this namespace is named HOSTNAME1; an ssh stub makes "root@IP_ADDRESS2"
//     this machine again in a UTS namespace named HOSTNAME2 (the double's peer);
//   - an apt-get stub for `InstallPackage drbd` (no Debian package has that
//     name; drbd-utils, which provides it, is installed).
// SETUP-AGENT runs as written (its `modprobe drbd` fails harmlessly, its
// drbdadm calls reach the double: up, primary --force on HOSTNAME1, then it
// waits for Connected and UpToDate/UpToDate).
//
// Cases that do not apply to drbddisk, and why:
//   - "Primary/Secondary monitor" and "try to 'promote' in single-primary
//     mode": they drive a master/slave (promotable clone) agent, where start
//     means "Secondary" and promote/demote switch roles. drbddisk is a
//     primitive: start itself promotes, and it has no promote or demote
//     action (it answers 3, OCF_ERR_UNIMPLEMENTED). The second case's remote
//     `start` is then a promotion while this node is Primary, which drbddisk
//     rightly refuses after its peer_wait bound.

const CASE_FILE = '/usr/share/resource-agents/ocft/configs/drbd.linbit';
const DOUBLES = fileURLToPath(new URL('../doubles', import.meta.url));
const NOT_APPLICABLE = new Map([
  ['Primary/Secondary monitor', 'master/slave agent semantics: promote/demote actions, start = Secondary; drbddisk promotes in start and has no promote/demote'],
  ["try to 'promote' in single-primary mode", 'master/slave agent semantics across two hosts (promote/demote); a second start while the peer is Primary is refused by design'],
]);

const SANDBOX = String.raw`
set -euo pipefail
WORK=$1 AGENTS=$2 DOUBLES=$3 VERSION=$4
mount --make-rslave /  # not private: the host's unmounts must reach our copies of its mounts
hostname HOSTNAME1
mkdir -p "$WORK/stubs" "$WORK/configs" "$WORK/rsctmp" "$WORK/rsctmp-HOSTNAME2" "$WORK/state/res/ocft0"
touch "$WORK/rsctmp-HOSTNAME2/.backbash-log"
cat >"$WORK/stubs/apt-get" <<EOF
#!/bin/bash
echo "apt-get \$*" >>"$WORK/stub-calls.log"
[ "\$1" = "-y" ] && shift
[ "\$1" = install ] || exit 1
shift
for pkg in "\$@"; do
  dpkg -s "\$pkg" >/dev/null 2>&1 && continue
  [ "\$pkg" = drbd ] && dpkg -s drbd-utils >/dev/null 2>&1 && continue
  exit 1
done
EOF
cat >"$WORK/stubs/ssh" <<EOF
#!/bin/bash
echo "ssh \$1" >>"$WORK/stub-calls.log"
[ "\$1" = root@IP_ADDRESS2 ] || { echo "ssh stub: unknown host \$1" >&2; exit 255; }
shift
export HA_RSCTMP="$WORK/rsctmp-HOSTNAME2"
exec unshare -u bash -c 'hostname HOSTNAME2 && exec bash -c "\$0"' "\$*"
EOF
chmod 755 "$WORK/stubs/apt-get" "$WORK/stubs/ssh"
mount --bind "$WORK/stubs/apt-get" /usr/bin/apt-get
mount --bind "$WORK/stubs/ssh" /usr/bin/ssh
mount --bind "$DOUBLES/drbdadm" /usr/sbin/drbdadm
mount --bind "$DOUBLES/drbdadm" /usr/sbin/drbdsetup
for f in /usr/bin/apt-get /usr/bin/ssh /usr/sbin/drbdadm /usr/sbin/drbdsetup; do
  [ "$(head -c 11 "$f")" = '#!/bin/bash' ] || { echo "sandbox: stub not in place over $f" >&2; exit 1; }
done
mkdir -p /var/lib/resource-agents/ocft
mount -t tmpfs -o mode=755 ocft-cases /var/lib/resource-agents/ocft
echo "HOSTNAME1 HOSTNAME2" >"$WORK/state/res/ocft0/nodes"
echo 0 >"$WORK/state/res/ocft0/minor"
echo Secondary >"$WORK/state/res/ocft0/role.HOSTNAME2"
export DRBD_DOUBLE_STATE="$WORK/state" DRBD_DOUBLE_VERSION="$VERSION" DRBD_DOUBLE_LOG="$WORK/drbdadm-calls.log"
export HA_RSCTMP="$WORK/rsctmp"
sed -e 's|^\(\s*\)Agent drbd$|\1Agent drbddisk|' -e "s|^\(\s*\)AgentRoot .*|\1AgentRoot $AGENTS|" \
  /usr/share/resource-agents/ocft/configs/drbd.linbit >"$WORK/configs/drbddisk"
diff /usr/share/resource-agents/ocft/configs/drbd.linbit "$WORK/configs/drbddisk" >"$WORK/config.diff" || true
ocft make -d "$WORK/configs" drbddisk >/dev/null
ocft test drbddisk || true
`;

for (const version of ['8.3', '8.4', '9']) {
  t.test(`ocft configs/drbd.linbit against drbddisk (drbd ${version} double)`, async (t) => {
    const work = mkdtempSync(`${tmpdir()}/drbddisk-ocft-${process.pid}-`);
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const r = await execa('unshare', ['--mount', '--uts', '--propagation', 'slave', '--', 'bash', '-c', SANDBOX, 'sandbox', work, AGENTS_DIR, DOUBLES, version], { reject: false, all: true, timeout: 600_000 });
    const output = r.all.replace(/\x1b\[[0-9;]*m/g, '');
    t.equal(r.exitCode, 0, `the sandbox ran:\n${output}`);
    t.notMatch(output, /SETUP failed/, 'SETUP-AGENT ran');

    const cases = [...readFileSync(CASE_FILE, 'utf8').matchAll(/^CASE "(.*)"$/gm)].map((m) => m[1]!);
    t.equal(cases.length, 12, 'the shipped file has 12 cases');
    const results = new Map([...output.matchAll(/^drbddisk: (.*?) - (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const name of cases) {
      const reason = NOT_APPLICABLE.get(name);
      if (reason) t.not(results.get(name), 'OK.', `case "${name}" does not apply: ${reason} (ocft: ${results.get(name)})`);
      else t.equal(results.get(name), 'OK.', `case "${name}"`);
    }
    t.equal(results.get('Primary/Secondary monitor'), "ERROR: './drbddisk promote' failed, the return code is 3.", 'promote is unimplemented (3)');

    const changed = readFileSync(`${work}/config.diff`, 'utf8').split('\n').filter((l) => /^[<>]/.test(l)).map((l) => l.slice(2).trim().split(/\s+/)[0]);
    t.same([...new Set(changed)].sort(), ['Agent', 'AgentRoot'], 'only Agent and AgentRoot differ from the shipped file');
    const calls = readFileSync(`${work}/drbdadm-calls.log`, 'utf8');
    t.match(calls, /^HOSTNAME1\tdrbdadm -c \S+ primary --force ocft0$/m, 'SETUP-AGENT promoted HOSTNAME1 through the double');
    t.match(calls, /^HOSTNAME2\tdrbdadm -c \S+ up ocft0$/m, 'and brought the resource up on the ssh host');
  });
}
