#!/usr/bin/env bash
# Measures the build choice (Bun-compiled variants vs Node SEA / node bundle)
# on cold `meta-data` and `status` calls; writes bench/STARTUP.md and
# bench/results/startup.json.  bash bench/startup.sh [--quick]
# postject (for Node SEA) is installed from npm into a temporary prefix,
# not into the project; without it the SEA rows are skipped and noted.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TMP=$(mktemp -d /tmp/hbbench-startup.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
POSTJECT_VERSION=1.0.0-alpha.6
postject=
if npm install --silent --no-save --no-audit --no-fund --prefix "$TMP/tools" "postject@$POSTJECT_VERSION" >/dev/null 2>&1; then
  postject=$TMP/tools/node_modules/.bin/postject
else
  echo "startup: could not install postject from npm; Node SEA rows skipped" >&2
fi
"$ROOT/node_modules/.bin/bun" bench/startup.ts --tmp "$TMP" ${postject:+--postject "$postject"} "$@"
