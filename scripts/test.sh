#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what it needs, then builds, type-checks,
# lints and runs every test. `.ci/run` runs exactly this (`npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."

# Dependencies, exactly as locked. Re-run when the lock changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/install-chromium.sh
bash scripts/install-proxies.sh
bash scripts/install-browsers.sh

npm run build
npx tsc -b
npx biome check .

# A throwaway PostgreSQL for the server's store tests (they fail, never skip, without it).
pg_env="$(bash scripts/postgres.sh start)"
eval "$pg_env"
trap 'bash scripts/postgres.sh stop "$ASSENT_TEST_PG_DIR"' EXIT
node scripts/run-tests.mjs "$@"
