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
# Measured (bench/STARTUP.md): --bytecode is most of the start-up win; ESM
# with --splitting keeps mysql2 (1 MB) out of every agent but mysqld, and
# execa is only the Node engine of lib/exec.ts, never reached under Bun.
./node_modules/.bin/bun build --compile --minify --bytecode --format esm --splitting --external execa \
  bin/ha-agent.ts --outfile "$out/ha-agent" >/dev/null
for agent in IPaddr drbddisk Filesystem mysqld; do
  ln -s ha-agent "$out/$agent"
done
echo "built $out: $(ls "$out" | tr '\n' ' ')"
