#!/usr/bin/env bash
# Emergency-shutdown drill against a running cluster: trips the switch through the HTTP API, checks that work is
# refused (readiness 503, an MCP tool call refused with emergency_shutdown) and that sessions are closed, then
# resets the switch and checks that the cluster is ready again.
#   ANCHOR_URL=http://127.0.0.1:8080 ANCHOR_OPERATOR_KEY=... scripts/chaos-drill.sh
# Optional: ANCHOR_AGENT_KEY (an agent key for the MCP check), DRILL_REASON.
set -euo pipefail

base="${ANCHOR_URL:?set ANCHOR_URL, e.g. http://127.0.0.1:8080}"
base="${base%/}"
operator="${ANCHOR_OPERATOR_KEY:?set ANCHOR_OPERATOR_KEY to an Operator API key}"
agent="${ANCHOR_AGENT_KEY:-$operator}"
reason="${DRILL_REASON:-chaos drill $(date -u +%Y-%m-%dT%H:%M:%SZ)}"

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
reset() { curl -sf -X DELETE -H "Authorization: Bearer $operator" "$base/api/emergency-shutdown" >/dev/null || true; }

# Whatever happens below, leave the cluster reset.
trap 'say "resetting the switch"; reset' EXIT

say "tripping the switch: $reason"
body=$(printf '{"reason":"%s"}' "${reason//\"/\\\"}")
curl -sf -X POST -H "Authorization: Bearer $operator" -H 'Content-Type: application/json' -d "$body" "$base/api/emergency-shutdown" \
  | grep -q '"tripped":true' || fail "POST /api/emergency-shutdown did not trip the switch"

say "checking that work is refused (within 1 s)"
deadline=$((SECONDS + 2))
until [ "$(status "$base/health/ready")" = 503 ]; do
  [ $SECONDS -lt $deadline ] || fail "/health/ready did not answer 503"
  sleep 0.1
done
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"budget_status","arguments":{}}}'
mcp=$(curl -s -X POST -H "Authorization: Bearer $agent" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -d "$call" "$base/mcp" || true)
if grep -q emergency_shutdown <<<"$mcp"; then
  say "MCP tools/call refused with emergency_shutdown"
else
  say "note: MCP tools/call answer did not mention emergency_shutdown (tool not wired yet?): ${mcp:0:200}"
fi

say "checking that every session is closed (within 5 s)"
deadline=$((SECONDS + 6))
while :; do
  sessions=$(curl -s -H "Authorization: Bearer $operator" "$base/api/sessions" || true)
  code=$(status -H "Authorization: Bearer $operator" "$base/api/sessions")
  if [ "$code" = 404 ]; then say "note: /api/sessions is not served by this build; skipped"; break; fi
  if [ "$code" = 200 ] && ! grep -q '"session_id"' <<<"$sessions"; then say "no open sessions"; break; fi
  [ $SECONDS -lt $deadline ] || fail "sessions still open: ${sessions:0:300}"
  sleep 0.2
done

say "resetting the switch"
curl -sf -X DELETE -H "Authorization: Bearer $operator" "$base/api/emergency-shutdown" | grep -q '"tripped":false' || fail "DELETE did not reset the switch"
deadline=$((SECONDS + 15))
until [ "$(status "$base/health/ready")" = 200 ]; do
  [ $SECONDS -lt $deadline ] || fail "/health/ready did not recover to 200"
  sleep 0.2
done
trap - EXIT
say "drill passed: work refused, sessions closed, switch reset, cluster ready"
