#!/usr/bin/env bash
# Start or stop throw-away PostgreSQL and Redis servers on loopback for the tests
# (their own data directory and ports; nothing else on the machine is touched).
#   scripts/services.sh start   -> prints the env lines to export
#   scripts/services.sh stop
set -euo pipefail
BASE="${SERVICES_DIR:-/tmp/plivo-otp-services}"
PG_PORT="${TEST_PG_PORT:-25432}"   # below the kernel's ephemeral range (32768-60999), so no
REDIS_PORT="${TEST_REDIS_PORT:-26379}" # outgoing connection can hold the port when a server starts
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$BASE"
  if [ ! -s "$BASE/pg/PG_VERSION" ]; then
    mkdir -p "$BASE/pg"
    [ "$(id -u)" = 0 ] && chown postgres: "$BASE/pg"
    as_postgres "$PG_BIN/initdb" -D "$BASE/pg" -U postgres -A trust --no-sync >/dev/null
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres: "$BASE/pg" && chmod 777 "$BASE"
  as_postgres "$PG_BIN/pg_ctl" -D "$BASE/pg" status >/dev/null 2>&1 \
    || as_postgres "$PG_BIN/pg_ctl" -D "$BASE/pg" -l "$BASE/pg/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $BASE -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  for db in otp_test otp_e2e; do
    as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
      || as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
  done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 \
    || redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --pidfile "$BASE/redis.pid" --logfile "$BASE/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/otp_test"
  echo "TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

stop() {
  [ -s "$BASE/pg/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$BASE/pg" -m fast -w stop >/dev/null || true
  [ -s "$BASE/redis.pid" ] && kill "$(cat "$BASE/redis.pid")" 2>/dev/null || true
}

"${1:?usage: services.sh start|stop}"
