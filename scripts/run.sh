#!/usr/bin/env bash
# Runs one Anchor.Orleans silo with the embedded defaults (Development, http://127.0.0.1:8080).
# Extra arguments go to the app, e.g. scripts/run.sh --Anchor:Sessions:MaxConcurrent=10
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
require_dotnet
require_packages /usr/bin/chromium=chromium
exec dotnet run --project src/Silo/Anchor.Orleans.Silo.csproj -c Release -- "$@"
