#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests (there is no Docker here).
#   eng/postgres.sh start [STATE_FILE]   starts one (unless KEEL_TEST_POSTGRES is set) and writes
#                                        "export KEEL_TEST_POSTGRES=..." to STATE_FILE, for `source`
#   eng/postgres.sh stop  [STATE_FILE]   stops the one start made and removes its directory
# STATE_FILE defaults to .test-results/postgres.env. initdb refuses root, so as root the server runs as `postgres`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${2:-$root/.test-results/postgres.env}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$1"; else bash -c "$1"; fi
}

case "${1:-}" in
start)
  mkdir -p "$(dirname "$state")"
  if [ -n "${KEEL_TEST_POSTGRES:-}" ]; then
    printf "export KEEL_TEST_POSTGRES='%s'\n" "$KEEL_TEST_POSTGRES" > "$state"
    echo "postgres: using KEEL_TEST_POSTGRES from the environment"
    exit 0
  fi
  for tool in initdb pg_ctl; do
    command -v "$tool" >/dev/null || { echo "postgres: '$tool' is not on PATH; install the PostgreSQL server or set KEEL_TEST_POSTGRES" >&2; exit 1; }
  done
  dir=$(mktemp -d "${TMPDIR:-/tmp}/keel-pg.XXXXXX")
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  as_postgres "initdb -D '$dir/data' -A trust -U postgres -E UTF8 --no-instructions >'$dir/initdb.log' 2>&1" \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  if ! as_postgres "pg_ctl -D '$dir/data' -w -t 60 -l '$dir/log' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=300\" start >/dev/null"; then
    cat "$dir/log" >&2; rm -rf "$dir"; exit 1
  fi
  conn="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  { printf "export KEEL_TEST_POSTGRES='%s'\n" "$conn"; printf "KEEL_PG_DIR='%s'\n" "$dir"; } > "$state"
  echo "postgres: started on 127.0.0.1:$port ($dir)"
  echo "export KEEL_TEST_POSTGRES='$conn'"
  ;;
stop)
  [ -f "$state" ] || exit 0
  KEEL_PG_DIR=""
  # shellcheck disable=SC1090
  source "$state"
  if [ -n "$KEEL_PG_DIR" ] && [ -d "$KEEL_PG_DIR" ]; then
    as_postgres "pg_ctl -D '$KEEL_PG_DIR/data' -m fast -w stop >/dev/null" || true
    rm -rf "$KEEL_PG_DIR"
    echo "postgres: stopped"
  fi
  rm -f "$state"
  ;;
*)
  echo "usage: $0 start|stop [STATE_FILE]" >&2
  exit 2
  ;;
esac
