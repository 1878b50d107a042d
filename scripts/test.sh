#!/usr/bin/env bash
# Runs every test: .NET unit, grain, API and end-to-end suites (real Redis, real Chromium, real MCP
# clients), then the deployment checks (Kubernetes manifests, Prometheus rules, Alertmanager config).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
require_dotnet
require_packages /usr/bin/chromium=chromium redis-server=redis-server /usr/sbin/nginx=nginx curl=curl node=nodejs npm=npm podman=podman runc=runc debootstrap=debootstrap /usr/lib/podman/netavark=netavark /usr/lib/podman/aardvark-dns=aardvark-dns
require_node 20

# Third-party MCP peers for the interop tests (the TypeScript SDK, @playwright/mcp), pinned by the lock file.
(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)

dotnet build Anchor.Orleans.sln -c Release -warnaserror
run_tests() { dotnet test "$@" -c Release --no-build --logger "console;verbosity=minimal"; }

# Everything but the multi-cluster suite, in parallel per assembly.
run_tests Anchor.Orleans.sln --filter "FullyQualifiedName!~Anchor.Orleans.Cluster.Tests"

# Multi-silo clusters and the emergency switch: one process per test. Silos of different clusters in one
# process can reach each other's grains (production runs one silo per process), so each test gets its own.
cluster=tests/Anchor.Orleans.Cluster.Tests
# Detailed verbosity: the chaos test prints its figures (detection time, slot-free time, failed calls) to the CI log.
# A theory is listed once per row; its rows run together (each starts its own silo processes).
for test in $(run_tests "$cluster" --list-tests | sed -n 's/^ *\(Anchor\.Orleans\.Cluster\.Tests\.[A-Za-z0-9_.]*\)\((.*)\)\{0,1\}$/\1/p' | sort -u); do
  dotnet test "$cluster" -c Release --no-build --logger "console;verbosity=detailed" --filter "FullyQualifiedName=$test"
done

# The container image and deploy/k8s for real: built and played with podman, rolled, torn down.
bash scripts/deploy-test.sh

if [ -x deploy/observability/check.sh ]; then
  bash deploy/observability/check.sh
fi
