#!/usr/bin/env bash
# Emergency-shutdown drill against a running cluster. It opens a browser session through MCP, trips the
# switch through the HTTP API, checks that work is refused (an MCP tool call answers emergency_shutdown with
# the reason; readiness reports the switch) and that every session is closed within 5 s, then resets the
# switch and checks that work is admitted again.
#   ANCHOR_URL=http://127.0.0.1:8080 ANCHOR_OPERATOR_KEY=... [ANCHOR_AGENT_KEY=...] scripts/chaos-drill.sh
# Optional: DRILL_REASON. Exit code 0 when every check passed; the switch is reset whatever happens.
set -euo pipefail

base="${ANCHOR_URL:?set ANCHOR_URL, e.g. http://127.0.0.1:8080}"
base="${base%/}"
operator="${ANCHOR_OPERATOR_KEY:?set ANCHOR_OPERATOR_KEY to an Operator API key}"
agent="${ANCHOR_AGENT_KEY:-$operator}"
reason="${DRILL_REASON:-chaos drill $(date -u +%Y-%m-%dT%H:%M:%SZ)}"
work=$(mktemp -d)

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
reset() { curl -sf -X DELETE -H "Authorization: Bearer $operator" "$base/api/emergency-shutdown" >/dev/null || true; }
cleanup() { say "resetting the switch"; reset; rm -rf "$work"; }

# MCP over Streamable HTTP with curl: initialize, then calls carrying the transport session id.
mcp_session=""
mcp() {
  local body=$1
  local headers=(-H "Authorization: Bearer $agent" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
  [ -n "$mcp_session" ] && headers+=(-H "Mcp-Session-Id: $mcp_session")
  curl -s -D "$work/headers" "${headers[@]}" -d "$body" "$base/mcp"
}
mcp_init() {
  mcp '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"chaos-drill","version":"1"}}}' >/dev/null
  mcp_session=$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
  mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
}
tool() {
  local args=${2:-}
  [ -n "$args" ] || args='{}'
  mcp "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$args}}"
}
open_sessions() { curl -sf -H "Authorization: Bearer $operator" "$base/api/sessions" | grep -o '"count":[0-9]*' | cut -d: -f2; }

trap cleanup EXIT
mcp_init

say "opening a browser session"
opened=$(tool browser_session_create)
grep -q 'session_id' <<<"$opened" || fail "browser_session_create did not open a session: ${opened:0:300}"
[ "$(open_sessions)" -ge 1 ] || fail "the new session is not listed in /api/sessions"

say "tripping the switch: $reason"
body=$(printf '{"reason":"%s"}' "${reason//\"/\\\"}")
curl -sf -X POST -H "Authorization: Bearer $operator" -H 'Content-Type: application/json' -d "$body" "$base/api/emergency-shutdown" \
  | grep -q '"tripped":true' || fail "POST /api/emergency-shutdown did not trip the switch"

say "checking that work is refused (within 1 s)"
deadline=$((SECONDS + 2))
until tool budget_status | grep -q 'emergency_shutdown'; do
  [ $SECONDS -lt $deadline ] || fail "tool calls were not refused with emergency_shutdown"
  sleep 0.1
done
curl -s "$base/health/ready" | grep -q '"emergency":{"status":"Degraded"' || fail "/health/ready does not report the switch"

say "checking that every session is closed (within 5 s)"
deadline=$((SECONDS + 6))
until [ "$(open_sessions)" = 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "sessions still open after 5 s"
  sleep 0.2
done

say "resetting the switch"
curl -sf -X DELETE -H "Authorization: Bearer $operator" "$base/api/emergency-shutdown" | grep -q '"tripped":false' || fail "DELETE did not reset the switch"
deadline=$((SECONDS + 15))
until tool budget_status | grep -q 'client_id'; do
  [ $SECONDS -lt $deadline ] || fail "work is still refused after the reset"
  sleep 0.2
done
trap - EXIT
rm -rf "$work"
say "drill passed: work refused, sessions closed, switch reset, work admitted again"
