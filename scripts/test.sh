#!/usr/bin/env bash
# Runs every test of the solution against real PostgreSQL and NATS servers that the tests start
# themselves (tests/Djag.TestKit). On a fresh Debian machine it first installs the server packages.
#
#   scripts/test.sh                       # everything
#   scripts/test.sh --filter 'FullyQualifiedName~Persistence'
#
# The last line printed is always "N passed, N failed, N skipped"; the exit code is non-zero on
# any failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

filter=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --filter) filter="${2:?--filter needs an expression}"; shift 2 ;;
    --filter=*) filter="${1#--filter=}"; shift ;;
    *) echo "usage: scripts/test.sh [--filter EXPR]" >&2; exit 2 ;;
  esac
done
# The multi-minute soak has a command of its own (scripts/soak.sh); it is not even listed here.
filter="${filter:+($filter)&}Category!=Soak"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- Server binaries the integration tests run (the test kit starts its own, on free ports), and the browser. ---
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
command -v nats-server >/dev/null || [[ -x /usr/sbin/nats-server ]] || missing+=(nats-server)
# The admin's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "Installing ${missing[*]}..."
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# --- .NET 10 SDK. ---
if ! command -v dotnet >/dev/null; then
  for dir in "$HOME/.dotnet" /usr/share/dotnet /usr/lib/dotnet; do
    [[ -x $dir/dotnet ]] && { export PATH="$dir:$PATH"; break; }
  done
fi
sdk_major=$(dotnet --version 2>/dev/null | cut -d. -f1 || true)
if [[ ! ${sdk_major:-} =~ ^[0-9]+$ ]] || (( sdk_major < 10 )); then
  echo "The .NET 10 SDK is required (found: ${sdk_major:-none}). Install it, e.g. on Debian 12:" >&2
  cat >&2 <<'MSG'
  wget https://packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb -O /tmp/ms.deb
  sudo dpkg -i /tmp/ms.deb && sudo apt-get update && sudo apt-get install -y dotnet-sdk-10.0
or see https://learn.microsoft.com/dotnet/core/install/linux-debian
MSG
  exit 1
fi

# --- Build (warnings are errors) and test. ---
dotnet build djag.sln -c Release || { echo "Build failed; no tests were run." >&2; exit 1; }

results=artifacts/test-results
rm -rf "$results"
status=0
dotnet test djag.sln -c Release --no-build --results-directory "$results" \
  --blame-hang-timeout 10min --blame-hang-dump-type none --filter "$filter" || status=$?

# --- The admin's browser tests leave screenshots (laptop and phone size) of every main page. ---
shots=tests/Djag.Admin.Tests/bin/Release/net10.0/artifacts/screenshots
if [[ -d $shots ]]; then
  mkdir -p artifacts/screenshots && cp "$shots"/*.png artifacts/screenshots/ 2>/dev/null || true
fi

# --- Sum the <Counters .../> of every TRX file. ---
mapfile -t trx_files < <(find "$results" -name '*.trx' 2>/dev/null)
passed=0 failed=0 skipped=0
if [[ ${#trx_files[@]} -gt 0 ]]; then
  read -r passed failed skipped < <(
    grep -ho '<Counters [^>]*>' "${trx_files[@]}" | awk '
      function count(name) { return match($0, name "=\"[0-9]+\"") ? substr($0, RSTART + length(name) + 2, RLENGTH - length(name) - 3) : 0 }
      # error, timeout and aborted are failures too. Skipped tests are "notExecuted", but VSTest leaves
      # that counter at 0 and only lowers "executed", so take whichever is larger.
      { p += count("passed"); f += count("failed") + count("error") + count("timeout") + count("aborted")
        n = count("notExecuted"); d = count("total") - count("executed"); s += (n > d ? n : d) }
      END { print p + 0, f + 0, s + 0 }')
else
  echo "No TRX file was produced in $results." >&2
  status=1
fi
(( status == 0 )) || echo "dotnet test exited with code $status." >&2

echo "$passed passed, $failed failed, $skipped skipped"
(( failed == 0 && status == 0 ))
