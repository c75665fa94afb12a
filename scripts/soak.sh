#!/usr/bin/env bash
# The long soak (issue 9), apart from scripts/test.sh because it takes minutes: PostgreSQL, NATS, two beats
# and four workers as processes run groups of five dependent tasks that all fire every second, while every
# 30 s one fault from a rotation hits the system (SIGKILL of a worker, SIGKILL of a beat, NATS restart,
# PostgreSQL restart, a worker frozen past its lease). At the end every task is paused, every run must be
# final, the ledger check must hold, no run may have started twice, and the resident memory of the beat and
# workers that lived through the soak must be flat. What is checked and the figures: docs/reliability.md.
#
#   scripts/soak.sh                          # 5 minutes of faults, 10 groups (50 tasks, at most 3,000 runs a minute)
#   scripts/soak.sh --minutes 10 --groups 8
#
# Needs what scripts/test.sh installs (the .NET 10 SDK, PostgreSQL and nats-server binaries); starts its own
# servers on free loopback ports. Prints as it goes; the summary is also left in artifacts/soak/summary.txt.
# Everything it starts stops at the end, also on failure or Ctrl-C. Exit code 0 only if the soak passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { echo "usage: scripts/soak.sh [--minutes N] [--groups N]" >&2; }
minutes=5
groups=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="${2:?--minutes needs a number}"; shift 2 ;;
    --minutes=*) minutes="${1#--minutes=}"; shift ;;
    --groups) groups="${2:?--groups needs a number}"; shift 2 ;;
    --groups=*) groups="${1#--groups=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; exit 2 ;;
  esac
done
[[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] && [[ $minutes != 0 ]] || { echo "--minutes must be a positive number, not '$minutes'" >&2; exit 2; }
[[ $groups =~ ^[1-9][0-9]*$ ]] || { echo "--groups must be a positive whole number, not '$groups'" >&2; exit 2; }

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if ! command -v dotnet >/dev/null; then
  for dir in "$HOME/.dotnet" /usr/share/dotnet /usr/lib/dotnet; do
    [[ -x $dir/dotnet ]] && { export PATH="$dir:$PATH"; break; }
  done
fi
command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required; scripts/test.sh says how to install it." >&2; exit 1; }

dotnet build tests/Djag.IntegrationTests -c Release || { echo "Build failed; the soak was not run." >&2; exit 1; }

out=artifacts/soak
mkdir -p "$out"
rm -f "$out/pids" "$out/summary.txt"
export DJAG_SOAK_MINUTES="$minutes" DJAG_SOAK_GROUPS="$groups" DJAG_SOAK_DIR="$PWD/$out"

host=
stop_everything() {
  # On SIGTERM the test host stops its servers and services itself (ProcessExit); give it a minute.
  if [[ -n $host ]] && kill -0 "$host" 2>/dev/null; then
    kill -TERM "$host" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$host" 2>/dev/null || break; sleep 1; done
    kill -KILL "$host" 2>/dev/null || true
  fi
  # Whatever a killed host left behind: the beats and workers it recorded, each by PID and only if it still is one.
  if [[ -f $out/pids ]]; then
    while read -r pid role; do
      if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'djag-\(beat\|worker\)\.dll'; then
        echo "stopping $role (pid $pid), left behind" >&2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$out/pids"
  fi
}
trap stop_everything EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The test project is an xunit v3 executable: run the one soak test with its output live.
dotnet tests/Djag.IntegrationTests/bin/Release/net10.0/Djag.IntegrationTests.dll \
  -trait "Category=Soak" -showLiveOutput -noColor -noLogo &
host=$!
status=0
wait "$host" || status=$?
host=

if (( status == 0 )) && ! grep -q '^ledger: holds' "$out/summary.txt" 2>/dev/null; then
  echo "The soak test did not run (skipped?); see the output above." >&2
  status=1
fi
echo "Summary: $out/summary.txt"
(( status == 0 )) && echo "soak passed" || echo "soak FAILED (exit code $status)"
exit "$status"
