#!/usr/bin/env bash
# `npm start` on a fresh machine: installs what is needed, builds, starts the demo news site
# (with its receipt server on embedded SQLite). Open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node --conditions=@assent/source --import tsx demo/src/server.ts
