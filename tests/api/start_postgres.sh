#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster on 127.0.0.1 for the storage tests; print its URL.
# Idempotent: installs Debian's postgresql when missing, reuses a running cluster.
# Usage: tests/api/start_postgres.sh [PORT]   (env PGTEST_DIR picks the data folder)
set -euo pipefail
PORT="${1:-${PGTEST_PORT:-55432}}"
DIR="${PGTEST_DIR:-/tmp/allocator-pgtest-$PORT}"
DB=allocator_test

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

if ! BIN="$(find_bin)"; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) 1>&2
    BIN="$(find_bin)"
fi

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! as_postgres "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    as_postgres "$BIN/pg_ctl" -D "$DIR" -w -l "$DIR/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off" start >/dev/null
fi
if ! as_postgres "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
    as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
