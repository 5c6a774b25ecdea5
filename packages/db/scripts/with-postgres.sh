#!/bin/sh
# Runs a command against a throwaway PostgreSQL cluster:
#   sh packages/db/scripts/with-postgres.sh npx vitest run
# initdb's a cluster in a temporary directory, serves it on 127.0.0.1:${NIMBUS_PG_PORT:-5433} only
# (password auth, password generated now), runs the command with DATABASE_URL set, then stops the
# server and removes the directory, keeping the command's exit status.
# PostgreSQL refuses to run as root: as root, the server runs as the user "postgres"
# (override with NIMBUS_PG_USER); the command itself runs as the caller.
set -eu

port="${NIMBUS_PG_PORT:-5433}"
run_user="${NIMBUS_PG_USER:-postgres}"

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then latest="$d"; fi
  done
  if [ -n "${latest:-}" ]; then echo "$latest"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  echo "with-postgres: no initdb found (install Debian's postgresql or set PG_BINDIR)" >&2
  exit 1
}
bindir="$(find_bindir)"

if [ "$#" -eq 0 ]; then
  echo "usage: with-postgres.sh <command> [args...]" >&2
  exit 2
fi

tmp="$(mktemp -d /tmp/nimbus-pg.XXXXXX)"
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$run_user" -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then
  if ! id "$run_user" >/dev/null 2>&1; then
    echo "with-postgres: running as root needs a non-root user '$run_user' for the server (set NIMBUS_PG_USER)" >&2
    rm -rf "$tmp"
    exit 1
  fi
  chown "$run_user" "$tmp"
fi

password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" >"$tmp/pwfile"
chmod 600 "$tmp/pwfile"
if [ "$(id -u)" -eq 0 ]; then chown "$run_user" "$tmp/pwfile"; fi

started=0
cleanup() {
  if [ "$started" -eq 1 ]; then
    as_server_user "$bindir/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! as_server_user "$bindir/initdb" -D "$tmp/data" -U nimbus --pwfile="$tmp/pwfile" --auth=scram-sha-256 \
  -E UTF8 --no-locale >"$tmp/initdb.log" 2>&1; then
  cat "$tmp/initdb.log" >&2
  exit 1
fi

# fsync off: the cluster lives for one test run.
if ! as_server_user "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off -c full_page_writes=off" start >/dev/null; then
  cat "$tmp/server.log" >&2
  exit 1
fi
started=1

status=0
DATABASE_URL="postgres://nimbus:${password}@127.0.0.1:${port}/postgres" "$@" || status=$?
exit "$status"
