#!/usr/bin/env bash
# Builds dist/resource.d/: one standalone executable (Bun-compiled: no Node.js
# or node_modules needed on the target) and the four agent names as links to
# it. Copy or bind-mount that directory as /etc/ha.d/resource.d.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-dist/resource.d}
rm -rf "$out"
mkdir -p "$out"
# Type checking is `npm run typecheck` (test/run.sh runs it); the build only bundles.
# Measured (bench/STARTUP.md): --bytecode is most of the start-up win.
# execa is only lib/system/exec.ts's engine under Node, never reached under Bun.
# (--format esm --splitting would keep mysql2 out of the other agents, but
# Bun 1.4.5 then breaks mysql2's CommonJS interop inside the executable.)
# TARGET=bun-linux-arm64 cross-builds (packaging/package.sh); default: this host.
./node_modules/.bin/bun build --compile --minify --bytecode --external execa ${TARGET:+--target="$TARGET"} \
  bin/ha-agent.ts --outfile "$out/ha-agent" >/dev/null
for agent in IPaddr drbddisk Filesystem mysqld; do
  ln -s ha-agent "$out/$agent"
done
echo "built $out: $(ls "$out" | tr '\n' ' ')"
