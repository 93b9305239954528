#!/usr/bin/env bash
# Installs Debian's nginx and Caddy for the same-origin browser tests and the deployment recipes
# (test-support/proxy.ts and test-support/caddy.ts run private instances on 127.0.0.1 and free
# ports, with deploy/nginx/assent.conf and deploy/caddy/Caddyfile). The distro's own services
# are never started: a temporary policy-rc.d forbids it during the install, and they are
# stopped again to be sure. Idempotent: does nothing when both are there.
set -euo pipefail
# (And systemd's unit checker, systemd-analyze, for deploy/systemd's recipe.)
if [ -x /usr/sbin/nginx ] && [ -x /usr/bin/caddy ] && command -v systemd-analyze >/dev/null; then exit 0; fi
echo "assent: installing Debian's nginx and caddy (one time)…" >&2
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# A package is installable when apt knows a candidate version for it.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }'; }
has() { local c; c="$(candidate "$1")"; [ -n "$c" ] && [ "$c" != "(none)" ]; }

# Refresh the package lists only when they don't know the packages yet (a fresh image has none).
{ has nginx-light || has nginx; } && has caddy || $SUDO apt-get update -qq
# nginx-light is enough (bookworm); later releases dropped it for plain nginx.
pkg=nginx-light; has nginx-light || pkg=nginx

# 101 = "action forbidden": the package's postinst must not start the system service (it would
# take port 80). Docker images already ship such a policy-rc.d; leave an existing one alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
# Stale lists can name a version the mirror no longer has: refresh them once and retry.
apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$pkg" caddy systemd >/dev/null; }
apt_install || { $SUDO apt-get update -qq && apt_install; }
$SUDO service nginx stop >/dev/null 2>&1 || true
$SUDO service caddy stop >/dev/null 2>&1 || true
test -x /usr/sbin/nginx && test -x /usr/bin/caddy && command -v systemd-analyze >/dev/null
