#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server: initdb into a temporary directory, start it
# on a free loopback port (and a Unix socket in that directory), export its URI as
# LEADENRICH_TEST_POSTGRES, run the command, stop the server and delete everything. As root the
# server runs as the `postgres` user (PostgreSQL refuses to run as root).
#
#   scripts/with_postgres.sh ctest -R postgresql
#   scripts/with_postgres.sh bash -c 'leadenrich enrich --sandbox --store "$LEADENRICH_TEST_POSTGRES"'
#
# Exits 3, saying what to install, when PostgreSQL's server programs are missing: tests that
# need PostgreSQL fail rather than skip (scripts/setup.sh --tests installs it).
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

bindir=${LEADENRICH_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then bindir=$d; break; fi
  done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with_postgres: PostgreSQL's server programs (initdb, pg_ctl) are not installed;" \
       "run scripts/setup.sh --tests (Debian package postgresql)" >&2
  exit 3
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/leadenrich-pg.XXXXXX")
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  chmod 700 "$dir"
  as_owner=(runuser -u postgres --)
fi

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=${LEADENRICH_PG_PORT:-$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U leadenrich -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2
  echo "with_postgres: initdb failed" >&2
  exit 3
}
# A test server: durability off (it is deleted afterwards), room for many workers' connections.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null || {
  cat "$dir/server.log" >&2
  echo "with_postgres: the server did not start" >&2
  exit 3
}

export LEADENRICH_TEST_POSTGRES="postgresql://leadenrich@127.0.0.1:$port/postgres"
export LEADENRICH_TEST_POSTGRES_LOG="$dir/server.log"
set +e
"$@"
rc=$?
set -e
exit $rc
