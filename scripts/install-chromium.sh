#!/usr/bin/env bash
# Installs Debian's Chromium (the banner's browser tests and benches) and its headless shell
# (what scans run: the same engine without the browser's UI; see packages/scanner/README.md).
# Idempotent: installs only what is missing.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
[ -x /usr/bin/chromium-headless-shell ] || missing+=(chromium-headless-shell)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "assent: installing Debian's ${missing[*]} (one time)…" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
test -x /usr/bin/chromium
test -x /usr/bin/chromium-headless-shell
