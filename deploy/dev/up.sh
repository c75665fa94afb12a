#!/usr/bin/env bash
# Runs Djag on this machine: a PostgreSQL cluster and a nats-server under .djag/ in the checkout
# (loopback only), the schema migrated, the beat, two workers and the admin in the background, an admin
# user with a generated password (shown once), and the sample schedule examples/etl.yaml applied.
# Safe to run twice. State and logs: DJAG_STATE_DIR (.djag in the checkout). Ports: DJAG_PG_PORT (55432), DJAG_NATS_PORT (54222), DJAG_ADMIN_PORT (55080).
# Stop everything it started with deploy/dev/down.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${DJAG_STATE_DIR:-$root/.djag}
pg_port=${DJAG_PG_PORT:-55432}
nats_port=${DJAG_NATS_PORT:-54222}
admin_port=${DJAG_ADMIN_PORT:-55080}
mkdir -p "$state/logs" "$state/run"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)

# --- Packages ---
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v nats-server >/dev/null || [[ -x /usr/sbin/nats-server ]] || missing+=(nats-server)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "Installing ${missing[*]}..."
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
if ! dotnet --version 2>/dev/null | grep -qE '^(1[0-9])\.'; then
  echo "The .NET 10 SDK is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)

alive() { [[ -f $1 ]] && kill -0 "$(head -n 1 "$1")" 2>/dev/null; }

# PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  as_pg=(runuser -u postgres --)
fi

# --- PostgreSQL ---
if [[ ! -f $state/pg/PG_VERSION ]]; then
  mkdir -p "$state/pg"
  [[ ${#as_pg[@]} -eq 0 ]] || chown postgres: "$state/pg"
  chmod 700 "$state/pg"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$state/pg" -U postgres -A trust -E UTF8 >"$state/logs/initdb.log"
fi
if ! alive "$state/pg/postmaster.pid"; then
  touch "$state/logs/postgres.log"
  [[ ${#as_pg[@]} -eq 0 ]] || chown postgres: "$state/logs/postgres.log"
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$state/pg" -l "$state/logs/postgres.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $state/pg" >/dev/null
fi
psql() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
[[ $(psql -c "SELECT 1 FROM pg_database WHERE datname = 'djag'") == 1 ]] || psql -c "CREATE DATABASE djag"

# --- NATS with JetStream ---
if ! alive "$state/run/nats.pid"; then
  mkdir -p "$state/nats"
  nohup "$nats_server" -a 127.0.0.1 -p "$nats_port" -js -sd "$state/nats" >>"$state/logs/nats.log" 2>&1 &
  echo $! >"$state/run/nats.pid"
fi

# --- Build, migrate, beat ---
# DJAG_SKIP_BUILD=1 uses the Release build that is there (the test suite runs this script after its build).
if [[ ${DJAG_SKIP_BUILD:-0} != 1 ]]; then
  dotnet build "$root/djag.sln" -c Release -v quiet -nologo >"$state/logs/build.log" 2>&1 \
    || { tail -n 30 "$state/logs/build.log" >&2; exit 1; }
fi
bin() { echo "$root/src/$1/bin/Release/net10.0/$2.dll"; }

admin_url=http://127.0.0.1:$admin_port
cat >"$state/dev.env" <<ENV
DJAG_DB='Host=127.0.0.1;Port=$pg_port;Database=djag;Username=postgres'
DJAG_NATS_URL=nats://127.0.0.1:$nats_port
DJAG_ADMIN_URL=$admin_url
ENV
set -a; . "$state/dev.env"; set +a

start() { # name dll [args...]
  local name=$1; shift
  if ! alive "$state/run/$name.pid"; then
    : >"$state/logs/$name.log"
    nohup dotnet "$@" >>"$state/logs/$name.log" 2>&1 &
    echo $! >"$state/run/$name.pid"
  fi
}

# Waits until a service says it started (so the sample schedule's first events are not already late).
ready() { # name
  for _ in $(seq 120); do
    grep -q "Application started" "$state/logs/$1.log" && return 0
    alive "$state/run/$1.pid" || { tail -n 30 "$state/logs/$1.log" >&2; echo "$1 failed to start" >&2; exit 1; }
    sleep 0.5
  done
  echo "$1 did not start within 60 s; see $state/logs/$1.log" >&2
  exit 1
}

dotnet "$(bin Djag.Beat djag-beat)" migrate
start beat "$(bin Djag.Beat djag-beat)"
start worker-1 "$(bin Djag.Worker djag-worker)" --queues default
start worker-2 "$(bin Djag.Worker djag-worker)" --queues default
ASPNETCORE_URLS=$admin_url start admin "$(bin Djag.Admin djag-admin)"
ready beat
ready worker-1
ready worker-2
ready admin
dotnet "$(bin Djag.Cli djag)" apply "$root/examples/etl.yaml"

# The admin has no default password: the first run creates user "admin" with a generated one, shown once.
if password=$(dotnet "$(bin Djag.Cli djag)" users add admin --role admin 2>/dev/null); then
  login="admin / $password   (shown once; keep it)"
else
  login="admin (created by an earlier up.sh, which showed its password; add another: djag users add NAME --role admin)"
fi

cat <<MSG

Djag is up.
  PostgreSQL  127.0.0.1:$pg_port, database djag   (psql -h 127.0.0.1 -p $pg_port -U postgres djag)
  NATS        $DJAG_NATS_URL
  beat        pid $(cat "$state/run/beat.pid"), log $state/logs/beat.log
  workers     pids $(cat "$state/run/worker-1.pid") $(cat "$state/run/worker-2.pid"), logs $state/logs/worker-*.log
  admin       $admin_url   pid $(cat "$state/run/admin.pid"), log $state/logs/admin.log
  login       $login
  schedule    examples/etl.yaml (seconds-level crons: runs start within a minute)

Environment for the CLI:  set -a; . $state/dev.env; set +a; alias djag="dotnet $(bin Djag.Cli djag)"
Watch the runs:           djag runs list            (or the admin's Runs and Timeline pages)
Why is a task waiting:    djag why load
The DAG:                  djag dag
Simulate a schedule:      djag simulate examples/downtime.yaml
Stop everything:          deploy/dev/down.sh
MSG
