#!/usr/bin/env bash
# Durable admissions and reserve+settle at a period pre-filled with 1,000 and with 100,000 settled sessions,
# each configuration run ROUNDS times (default 2), interleaved. One line per run; load average before each.
# SECONDS_PER_RUN (10), CONCURRENCY (callers, a list: "32 64"), ROUNDS (2), PREFILLS ("1000 100000"), WARMUP_SECONDS (10) shorten it.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${SECONDS_PER_RUN:-10}
concurrencies=${CONCURRENCY:-32 64}
rounds=${ROUNDS:-2}
prefills=${PREFILLS:-1000 100000}
[ -n "${BENCH_BUILT:-}" ] || dotnet build -c Release bench/Governance -warnaserror --nologo -v quiet >/dev/null
dll=bench/Governance/bin/Release/net10.0/Anchor.Orleans.Bench.Governance.dll
for round in $(seq 1 "$rounds"); do
  for prefill in $prefills; do
    for concurrency in $concurrencies; do
      for mode in admit reserve; do
        echo "# round $round, $(cut -d' ' -f1-3 /proc/loadavg) load"
        dotnet "$dll" "$mode" "$seconds" "$concurrency" "$prefill" 2>&1 | grep -E '^(mode=|prefilled)'
      done
    done
  done
done
