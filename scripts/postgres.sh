#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and benches: Debian's postgresql, a fresh cluster in a temp
# dir on 127.0.0.1 and a free port. Never touches a system cluster. Idempotent install.
#
#   eval "$(bash scripts/postgres.sh start)"   # exports ASSENT_TEST_PG_URL and ASSENT_TEST_PG_DIR
#   bash scripts/postgres.sh stop "$ASSENT_TEST_PG_DIR"
#
# The URL names the `postgres` database of superuser `assent` (trust auth, local only);
# tests create a database of their own in it.
set -euo pipefail

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  if [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ]; then return; fi
  echo "assent: installing Debian's postgresql (one time)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  [ -x "$(bindir)/initdb" ]
}

# PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
  install
  local bin dir port
  bin="$(bindir)"
  dir="$(mktemp -d /tmp/assent-pg.XXXXXX)"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$bin/initdb -D '$dir/data' -A trust -U assent" >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    if as_pg "$bin/pg_ctl -D '$dir/data' -w -t 30 -l '$dir/data/log' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200' start" >&2; then
      echo "export ASSENT_TEST_PG_URL=postgres://assent@127.0.0.1:$port/postgres"
      echo "export ASSENT_TEST_PG_DIR=$dir"
      return
    fi
  done
  cat "$dir/data/log" >&2 || true
  exit 1
}

stop() {
  local dir="${1:-${ASSENT_TEST_PG_DIR:-}}"
  [ -n "$dir" ] && [ -d "$dir/data" ] || { echo "postgres.sh stop: no cluster dir given" >&2; exit 1; }
  as_pg "$(bindir)/pg_ctl -D '$dir/data' -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install | start | stop DIR" >&2; exit 2 ;;
esac
