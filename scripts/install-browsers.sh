#!/usr/bin/env bash
# Installs the other two engines for the banner's cross-engine tests (packages/banner/test/engines.test.ts):
# Debian's Firefox ESR (driven over WebDriver BiDi by puppeteer-core) and WebKitGTK's WebDriver
# with its MiniBrowser, which needs an X display: Xvfb (test-support/engines.ts starts it).
# Idempotent: does nothing when all of them are already there.
set -euo pipefail

# MiniBrowser ships inside libwebkit2gtk-4.1-0, under the multiarch library folder.
minibrowser() { compgen -G '/usr/lib/*-linux-gnu/webkit2gtk-4.*/MiniBrowser' >/dev/null; }
if [ -x /usr/bin/firefox-esr ] && [ -x /usr/bin/WebKitWebDriver ] && [ -x /usr/bin/Xvfb ] && minibrowser; then
  exit 0
fi
echo "assent: installing Debian's firefox-esr, webkit2gtk-driver and xvfb (one time)…" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# A package is installable when apt knows a candidate version for it.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
has() { local c; c="$(candidate "$1")"; [ -n "$c" ] && [ "$c" != "(none)" ]; }

# MiniBrowser renders with Mesa's software GL on Xvfb (a Recommends of libwebkit2gtk, so named here).
pkgs=(firefox-esr webkit2gtk-driver xvfb libgl1-mesa-dri fonts-dejavu-core)
# Refresh the package lists only when they don't know the packages yet (a fresh image has none).
if ! has firefox-esr || ! has webkit2gtk-driver; then $SUDO apt-get update -qq; fi
# Only what is missing (--no-upgrade leaves installed ones alone). Stale lists can name a version
# the mirror no longer has: refresh them once and retry.
apt_install() { $SUDO apt-get install -y -qq --no-install-recommends --no-upgrade "${pkgs[@]}" >/dev/null; }
apt_install || { $SUDO apt-get update -qq && apt_install; }

test -x /usr/bin/firefox-esr
test -x /usr/bin/WebKitWebDriver
test -x /usr/bin/Xvfb
minibrowser
