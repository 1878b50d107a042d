#!/usr/bin/env bash
# One benchmark command (issue 12): builds Release, runs every figure side by side and writes
# bench/results/<UTC date>.md (or <date>-smoke.md with BENCH_QUICK=1). It starts what it needs itself: the silos
# (in-process, or silo processes for the 2-silo drill), redis-server on free loopback ports, @playwright/mcp from
# tests/interop/node_modules (npm ci if missing) and the local fixture pages.
#
#   scripts/bench.sh                 # full run (~35 min): for a quiet machine
#   BENCH_QUICK=1 scripts/bench.sh   # smoke run (~3 min after the build): proves the harness, measures nothing
#
# Overrides: BENCH_OUT (results file), ROUNDS (figures 1 and 2), LEVELS (figure 4, "1,10,25,50"),
# LEVEL_ROUNDS (figure 4), SOAK_SECONDS (figure 6, 600), SOAK_SESSIONS (4), ESTOP_ROUNDS (5),
# GOV_SECONDS / GOV_WARMUP / GOV_PREFILLS (figure 3, bench/Governance/matrix.sh), BENCH_FIGURES (which to run,
# "p1 open governance concurrency estop soak checkpoints"), CHECKPOINT_ROUNDS (figure 7, ROUNDS). A figure that fails is recorded as failed, with its error, and the
# run goes on.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
  rounds=${ROUNDS:-8} levels=${LEVELS:-1,10} level_rounds=${LEVEL_ROUNDS:-2} soak=${SOAK_SECONDS:-30}
  estop_rounds=${ESTOP_ROUNDS:-1} gov_seconds=${GOV_SECONDS:-3} gov_warmup=${GOV_WARMUP:-3} gov_prefills=${GOV_PREFILLS:-1000 10000}
  suffix=-smoke
else
  rounds=${ROUNDS:-40} levels=${LEVELS:-1,10,25,50} level_rounds=${LEVEL_ROUNDS:-5} soak=${SOAK_SECONDS:-600}
  estop_rounds=${ESTOP_ROUNDS:-5} gov_seconds=${GOV_SECONDS:-10} gov_warmup=${GOV_WARMUP:-10} gov_prefills=${GOV_PREFILLS:-1000 100000}
  suffix=
fi
figures=${BENCH_FIGURES:-p1 open governance concurrency estop soak checkpoints density context-memory placement}
out=${BENCH_OUT:-bench/results/$(date -u +%F)$suffix.md}

source scripts/prerequisites.sh
require_packages /usr/bin/chromium=chromium redis-server=redis-server node=nodejs npm=npm
require_node 20
[ -f tests/interop/node_modules/@playwright/mcp/cli.js ] || (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error) || exit 1
dotnet build -c Release -warnaserror --nologo -v quiet bench/SideBySide >/dev/null || exit 1
dotnet build -c Release -warnaserror --nologo -v quiet bench/Governance >/dev/null || exit 1
dll=bench/SideBySide/bin/Release/net10.0/Anchor.Orleans.Bench.SideBySide.dll
# Figure 8 runs one Chromium per peer agent, each holding two inotify instances: at 50 agents the common default of
# 128 per user runs out and the peer's calls time out (bench/results/2026-12-05-density.md).
largest=$(tr ',' '\n' <<<"$levels" | sort -n | tail -1)
instances=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
if [[ " $figures " == *" density "* ]] && (( instances < 3 * largest + 32 )); then
  echo "bench: fs.inotify.max_user_instances is $instances, too few for $largest peer browsers; raise it (sysctl -w fs.inotify.max_user_instances=1024)" >&2
fi
body=$(mktemp)
trap 'rm -f "$body" "$body.err"' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(load)
started=$(date -u +%FT%TZ)
# Read before anything is written: the results file itself is tracked and would count as a change.
commit="$(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"

# Runs one figure; its Markdown goes into the body, or a plain failure note with the last lines of its output.
figure() {
  local name=$1; shift
  echo "bench: $name ($(load) load)" >&2
  if "$@" >"$body.out" 2>"$body.err"; then
    sed -n '/^## /,$p' "$body.out" >>"$body"
  else
    { echo "## $name: FAILED (exit $?)"; echo; echo '```'; tail -n 25 "$body.err" "$body.out" | grep -v '^==> '; echo '```'; } >>"$body"
  fi
  echo >>"$body"
  rm -f "$body.out"
}

governance() {
  local lines
  lines=$(BENCH_BUILT=1 SECONDS_PER_RUN=$gov_seconds WARMUP_SECONDS=$gov_warmup ROUNDS=1 PREFILLS="$gov_prefills" bench/Governance/matrix.sh) || return 1
  echo "## 3. Governance throughput (bench/Governance)"
  echo
  echo "\`bench/Governance/matrix.sh\`: one silo (Production, Redis clustering and storage, a real redis-server), 32 and 64 callers (each its own client, closed loop), ${gov_warmup} s warm-up, ${gov_seconds} s measured, periods pre-filled with ${gov_prefills// / and } settled sessions. admit = \`IToolAdmission.AdmitAsync\`; reserve = reserve + settle of a new session (four durable ledger changes)."
  echo
  echo "| mode | callers | period holds | load before | ops/s | p50 | p95 | p99 |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "$lines" | awk '
    /^# round/ { load = $4 }
    /^mode=/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
               printf "| %s | %s | %s settled sessions | %s | %s | %s | %s | %s |\n", v["mode"], v["concurrency"], v["prefill"], load, v["ops/s"], v["p50"], v["p95"], v["p99"] }'
  echo
  echo "Targets (issue 12): admissions ≥ 20,000/s with p99 ≤ 5 ms; reserve+settle ≥ 5,000 sessions/s; flat within 20 % between the two periods. Read the rows above against them."
}

for f in $figures; do
  case $f in
    p1) figure "1. navigate+snapshot and type/click" dotnet "$dll" p1 "$rounds" ;;
    open) figure "2. session open" dotnet "$dll" open "$rounds" ;;
    governance) figure "3. governance" governance ;;
    concurrency) figure "4. concurrent sessions" dotnet "$dll" concurrency "$levels" "$level_rounds" ;;
    estop) figure "5. emergency stop" dotnet "$dll" estop "$estop_rounds" 2 ;;
    soak) figure "6. soak" dotnet "$dll" soak "$soak" "${SOAK_SESSIONS:-4}" ;;
    checkpoints) figure "7. checkpoints" dotnet "$dll" checkpoints "${CHECKPOINT_ROUNDS:-$rounds}" ;;
    density) figure "8. density" dotnet "$dll" density "$levels" "$level_rounds" ;;
    context-memory) figure "9. memory per context" dotnet "$dll" context-memory "${CONTEXTS:-10}" "${NAVIGATIONS:-16}" ;;
    placement) figure "10. placement" dotnet "$dll" placement "${BUSY_PAGES:-1}" "${PLACED_SESSIONS:-6}" "${PLACEMENT_CPU_PERCENT:-60}" ;;
    *) echo "bench: unknown figure $f" >&2; exit 2 ;;
  esac
done
load_after=$(load)

orleans=$(sed -n 's:.*<OrleansVersion>\(.*\)</OrleansVersion>.*:\1:p' Directory.Packages.props)
playwright=$(sed -n 's:.*Include="Microsoft.Playwright" Version="\([^"]*\)".*:\1:p' Directory.Packages.props)
peer=$(node -p 'require("./tests/interop/node_modules/@playwright/mcp/package.json").version')
{
  if [ "$quick" = 1 ]; then
    echo "# Benchmark smoke run, $(date -u +%F) — smoke run on a loaded machine (load average $load_before before, $load_after after), not a measurement"
    echo
    echo "\`BENCH_QUICK=1 scripts/bench.sh\`: few rounds, short soak, smaller governance pre-fill. It proves the harness runs end to end; the figures below are **not** performance figures. Run \`scripts/bench.sh\` on a quiet machine for those."
  else
    echo "# Benchmarks, $(date -u +%F)"
    echo
    echo "\`scripts/bench.sh\` (full). Started $started, commit $commit."
  fi
  echo
  echo "## Machine and versions"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| CPU | $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r) |"
  echo "| load average (1, 5, 15 min) | before: $load_before; after: $load_after |"
  echo "| .NET | SDK $(dotnet --version), Release, Server GC |"
  echo "| Orleans | $orleans |"
  echo "| Playwright (.NET) | $playwright |"
  echo "| Chromium | $(/usr/bin/chromium --version 2>/dev/null | head -1) |"
  echo "| peer | @playwright/mcp $peer on Node $(node --version) |"
  echo "| Redis | $(redis-server --version | awk '{ print $3 }' | tr -d 'v=') |"
  echo
  cat "$body"
} >"$out"
echo "bench: wrote $out" >&2
