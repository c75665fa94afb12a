#!/usr/bin/env bash
# Stops exactly what deploy/dev/up.sh started, by the PIDs it recorded under .djag/. Data stays.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${DJAG_STATE_DIR:-$root/.djag}

stop() { # name pidfile
  [[ -f $2 ]] || return 0
  local pid
  pid=$(head -n 1 "$2")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "stopped $1 (pid $pid)"
  fi
  rm -f "$2"
}

# The admin, the workers (they drain), then the beat, then NATS.
for pidfile in "$state"/run/admin.pid "$state"/run/worker-*.pid "$state"/run/beat.pid "$state"/run/nats.pid; do
  [[ -e $pidfile ]] && stop "$(basename "$pidfile" .pid)" "$pidfile"
done
# The postmaster's own pid file; SIGTERM is PostgreSQL's "smart" shutdown, so ask for "fast" instead.
if [[ -f $state/pg/postmaster.pid ]]; then
  pid=$(head -n 1 "$state/pg/postmaster.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "stopped postgres (pid $pid)"
  fi
fi
