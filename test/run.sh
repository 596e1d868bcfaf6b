#!/usr/bin/env bash
# The project's test command (`npm test`): installs what it needs, type-checks,
# builds the standalone agents, then runs every tap test against the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/install-deps.sh
npm run --silent typecheck
npm run --silent build
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
npx tap "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line that any CI reader understands.
asserts=$(grep -E '^Asserts:' "$log" | tail -1)
pass=$(sed -nE 's/^Asserts: *([0-9]+) pass.*/\1/p' <<<"$asserts")
fail=$(sed -nE 's/^Asserts: *[0-9]+ pass +([0-9]+) fail.*/\1/p' <<<"$asserts")
echo "${pass:-0} passed, ${fail:-0} failed"
exit "$rc"
