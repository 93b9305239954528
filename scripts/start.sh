#!/usr/bin/env bash
# `npm start` on a fresh machine: installs what is needed, builds, starts the demo news site
# (with its receipt server on embedded SQLite). Open the URL it prints.
# PORT (default 3000), HOST (127.0.0.1), ASSENT_DEMO_DATA (the data directory, .data/; one
# running demo per directory) and ASSENT_ADMIN_TOKEN change it: demo/src/server.ts says in one
# line what to do when the port is busy or another demo holds the data (exit 1), or a setting is bad (exit 2).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node --conditions=@assent/source --import tsx demo/src/server.ts
