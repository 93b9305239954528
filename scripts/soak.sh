#!/usr/bin/env bash
# `npm run soak`: the receipt server's reliability suite (packages/server/test/reliability) in
# its long profile (ASSENT_SOAK=1): 60,000 fuzzed requests, 20 SIGKILLs under load on SQLite
# and 20 on PostgreSQL, 5 PostgreSQL outages, 5 full disks, four processes on one PostgreSQL
# until 10,000 receipts. Bounded in count, not time: roughly 15–30 minutes on a 2-core machine.
# `npm test` runs the same files in the short CI profile.
#
#   npm run soak                     # a fresh seed, printed by each test
#   ASSENT_SEED=123 npm run soak     # replays a run
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The server hands out the banner's build (GET /v1/assent.js): the fuzzer calls that route too.
npm run build

# A throwaway PostgreSQL, as in npm test (the outage test starts one more of its own).
pg_env="$(bash scripts/postgres.sh start)"
eval "$pg_env"
trap 'bash scripts/postgres.sh stop "$ASSENT_TEST_PG_DIR"' EXIT

# One file at a time: each already loads the machine with its own servers and clients.
ASSENT_SOAK=1 node --conditions=@assent/source --import tsx --test --test-concurrency=1 packages/server/test/reliability/*.test.ts
