#!/usr/bin/env bash
# Runs every test: .NET unit, grain, API and end-to-end suites (real Redis, real Chromium, real MCP
# clients), then the deployment checks (manifests, Prometheus rules, Alertmanager config).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
require_dotnet
require_packages /usr/bin/chromium=chromium redis-server=redis-server

dotnet build Anchor.Orleans.sln -c Release -warnaserror
dotnet test Anchor.Orleans.sln -c Release --no-build --logger "console;verbosity=normal" -- RunConfiguration.TestSessionTimeout=1500000

if [ -x deploy/observability/check.sh ]; then
  bash deploy/observability/check.sh
fi
