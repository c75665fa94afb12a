#!/usr/bin/env bash
# Builds the benchmark program in Release (warnings as errors, as the whole solution) and runs it.
# stdout: one JSON line per figure, then a table; stderr: progress, CPU split and top SQL statements per scenario.
#   bench/run.sh [--quick] [--only floor,lateness,hop,throughput,recovery,scale] [--no-hangfire] [--scale N]
# Everything it starts (PostgreSQL, NATS, beats, workers) is on loopback and stops when it ends, also on Ctrl-C.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# The servers come from Debian's packages, as for deploy/dev/up.sh and the tests.
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v nats-server >/dev/null || [[ -x /usr/sbin/nats-server ]] || missing+=(nats-server)
if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "Installing ${missing[*]}..." >&2
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "Building bench/Djag.Bench (Release)..." >&2
if ! dotnet build "$root/bench/Djag.Bench/Djag.Bench.csproj" -c Release -nologo -v quiet >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi

# The beat and the worker run as deployed: `dotnet publish` (ReadyToRun, see Directory.Build.props), one folder each.
published="$root/bench/Djag.Bench/bin/Release/net10.0/published"
echo "Publishing the beat and the worker (Release, ReadyToRun)..." >&2
for project in Djag.Beat:djag-beat Djag.Worker:djag-worker; do
  if ! dotnet publish "$root/src/${project%%:*}" -c Release -nologo -v quiet -o "$published/${project#*:}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    exit 1
  fi
done

# Not exec: the trap above removes the build log; Ctrl-C reaches the bench too (same process group) and it stops what it started.
dotnet "$root/bench/Djag.Bench/bin/Release/net10.0/djag-bench.dll" "$@"
