#!/usr/bin/env bash
# Deployment test: builds the image (scripts/image.sh in its fast mode: the silo published on the host), plays
# deploy/k8s/overlays/podman with podman and checks what a first deployment breaks on. The silos run as non-root, both
# turn ready and form one cluster on Redis, an MCP agent drives a fixture page through Chromium inside the container,
# a rolling update (one pod at a time, a new one ready before an old one drains, as the Deployment's strategy says) to
# a second image tag keeps the agent's session, the emergency stop through one silo refuses calls on the other, and
# tearing down leaves nothing behind. API keys, the Redis password and the key-ring certificate are made for this run
# only and never written to the repository. Everything it starts is removed by a trap on any exit. Needs root (rootful
# podman), kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
use_podman
require_packages curl=curl openssl=openssl /usr/sbin/debootstrap=debootstrap
command -v kubectl >/dev/null || { echo "kubectl (with Kustomize) is required to render deploy/k8s" >&2; exit 1; }

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }

work=$(mktemp -d /tmp/anchor-deploy-test.XXXXXX)
# The logs of every silo the test stops or tears down stay here for a look after the run.
logs=${ANCHOR_DEPLOY_TEST_LOGS:-/tmp/anchor-deploy-test-logs}
rm -rf "$logs"; mkdir -p "$logs"
network=anchor-deploy-test
# Chromium of this test runs as the image's user (uid 10001 on the host: rootful podman, no user namespace).
container_chromium() { pgrep -u 10001 -f /usr/lib/chromium/chromium || true; }

cleanup() {
  set +e
  [ -f "$work/rollout.pid" ] && kill "$(cat "$work/rollout.pid")" 2>/dev/null
  for f in "$work"/*.yaml; do [ -f "$f" ] && podman kube down "$f" >/dev/null 2>&1; done
  local pods containers
  pods=$(podman pod ps -q --filter network="$network" 2>/dev/null)
  [ -n "$pods" ] && podman pod rm -f $pods >/dev/null 2>&1
  containers=$(podman ps -aq --filter network="$network" 2>/dev/null)
  [ -n "$containers" ] && podman rm -f $containers >/dev/null 2>&1
  podman secret rm anchor-secrets anchor-redis >/dev/null 2>&1
  podman volume rm -f anchor-keyring >/dev/null 2>&1
  podman network rm -f "$network" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
# cleanup turns errexit off (it must run to the end); turned back on here, or every later failure would go unnoticed.
cleanup_leftovers_of_an_earlier_run() { local w=$work; work=/nonexistent; cleanup; set -e; work=$w; mkdir -p "$work"; }
cleanup_leftovers_of_an_earlier_run

# --- The image, and a second tag of it for the rolling update ------------------------------------------------
# Fast mode: the suite has built everything in Release on the host already, so the silo is published there and
# copied in (the Dockerfile's APP_SOURCE=prebuilt): no SDK base image, no restore or publish in a container.
# ANCHOR_IMAGE_PREBUILT=0 tests the full in-container build instead.
prebuilt=${ANCHOR_IMAGE_PREBUILT:-1}
if [ "$prebuilt" = 1 ]; then
  say "building the image (ANCHOR_IMAGE_PREBUILT=1 scripts/image.sh: the silo published on the host, copied in)"
else
  say "building the image (scripts/image.sh: restore and publish inside the build stage)"
fi
build_start=$(now_ms)
image_out=$(ANCHOR_IMAGE_PREBUILT=$prebuilt scripts/image.sh)
printf '%s\n' "$image_out" | tail -2
say "image built in $(( ($(now_ms) - build_start) / 1000 )) s"
ref=$(tail -1 <<<"$image_out")
next=$ref-next
printf 'FROM %s\nLABEL org.opencontainers.image.description="anchor-orleans, rolling-update target"\n' "$ref" > "$work/Containerfile.next"
podman build -q -t "$next" -f "$work/Containerfile.next" "$work" >/dev/null
say "second tag for the rolling update: $next ($(podman image inspect --format '{{.Id}}' "$next" | cut -c1-12), first $(podman image inspect --format '{{.Id}}' "$ref" | cut -c1-12))"
for img in redis fixture; do
  podman build -q --layers -t "localhost/anchor-$img:trixie" "deploy/k8s/overlays/podman/images/$img" >/dev/null
done

# --- Secrets for this run only --------------------------------------------------------------------------------
agent_key=$(openssl rand -hex 24)
operator_key=$(openssl rand -hex 24)
redis_password=$(openssl rand -hex 24)
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
b64() { printf %s "$1" | base64 -w0; }
{
  printf '{"Anchor__Redis__ConnectionString":"%s"' "$(b64 "redis-pod-0:6379,password=$redis_password,abortConnect=false")"
  printf ',"Anchor__Auth__ApiKeys__0__ClientId":"%s","Anchor__Auth__ApiKeys__0__KeySha256":"%s","Anchor__Auth__ApiKeys__0__Role":"%s"' \
    "$(b64 deploy-test-agent)" "$(b64 "$(sha "$agent_key")")" "$(b64 Agent)"
  printf ',"Anchor__Auth__ApiKeys__1__ClientId":"%s","Anchor__Auth__ApiKeys__1__KeySha256":"%s","Anchor__Auth__ApiKeys__1__Role":"%s"}' \
    "$(b64 deploy-test-operator)" "$(b64 "$(sha "$operator_key")")" "$(b64 Operator)"
} > "$work/secrets.json"
printf '{"password":"%s"}' "$(b64 "$redis_password")" > "$work/redis.json"
podman secret create anchor-secrets "$work/secrets.json" >/dev/null
podman secret create anchor-redis "$work/redis.json" >/dev/null
rm -f "$work/secrets.json" "$work/redis.json"

# The Data Protection key-ring certificate (a TLS Secret in a cluster): a podman volume, root-owned, group 10001.
mkdir "$work/keyring"
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=anchor-deploy-test-keyring \
  -keyout "$work/keyring/tls.key" -out "$work/keyring/tls.crt" 2>/dev/null
tar --owner=0 --group=10001 --mode=0440 -C "$work/keyring" -cf "$work/keyring.tar" tls.crt tls.key
podman volume create anchor-keyring >/dev/null
podman volume import anchor-keyring "$work/keyring.tar"
rm -rf "$work/keyring" "$work/keyring.tar"

# --- Play the overlay -------------------------------------------------------------------------------------------
kubectl kustomize deploy/k8s/overlays/podman | sed "s#image: localhost/anchor-orleans:podman#image: $ref#" > "$work/anchor.yaml"
podman network create "$network" >/dev/null
play_start=$(now_ms)
say "podman kube play deploy/k8s/overlays/podman (image $ref)"
# podman's own noise (no systemd for probe timers, no syslog) goes to a file, shown if a step fails.
play() { podman kube play --network "$network" "$1" >/dev/null 2>>"$work/podman.log" || { cat "$work/podman.log"; fail "podman kube play $1"; }; }
play "$work/anchor.yaml"

pod_ip() {
  local infra
  infra=$(podman pod inspect --format '{{.InfraContainerID}}' "$1")
  podman inspect --format "{{(index .NetworkSettings.Networks \"$network\").IPAddress}}" "$infra"
}
http_code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" || true; }
wait_ready() { # <pod> -> prints ms until /health/ready answered 200
  local ip deadline=$((SECONDS + 240))
  ip=$(pod_ip "$1")
  until [ "$(http_code "http://$ip:8080/health/ready")" = 200 ]; do
    if [ $SECONDS -ge $deadline ]; then
      podman logs --tail 40 "$1-silo" >&2 || true
      fail "$1 did not turn ready within 240 s"
    fi
    sleep 0.5
  done
}
status() { curl -sf -m 10 -H "Authorization: Bearer $operator_key" "http://$(pod_ip "$1"):8080/status"; }
silos_of() { status "$1" | grep -o '"silos":[0-9]*' | cut -d: -f2; }

for pod in anchor-pod-0 anchor-pod-1; do
  uid=$(podman exec "$pod-silo" id -u)
  [ "$uid" = 10001 ] || fail "$pod runs as uid $uid, not the image's non-root user"
  if podman exec "$pod-silo" touch /app/written 2>/dev/null; then fail "$pod: the root filesystem is writable"; fi
  podman exec "$pod-silo" sh -c 'touch /tmp/written "$HOME/written"' || fail "$pod: /tmp or \$HOME is not writable"
  say "$pod runs as uid $uid ($(podman top "$pod-silo" user comm | awk 'NR>1{printf "%s:%s ", $1, $2}')) on a read-only root (writable: /tmp, \$HOME)"
done
for pod in anchor-pod-0 anchor-pod-1; do
  wait_ready "$pod"
  say "$pod /health/ready 200 after $(( ($(now_ms) - play_start) / 1000 )) s from kube play ($(pod_ip "$pod"))"
done
one_cluster() { # <pod> <pod>: both see a cluster of two within 60 s
  local deadline=$((SECONDS + 60))
  until [ "$(silos_of "$1")" = 2 ] && [ "$(silos_of "$2")" = 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 and $2 do not form one cluster of two: $(status "$1")"
    sleep 1
  done
  say "one cluster: $1 /status silos=$(silos_of "$1"), $2 /status silos=$(silos_of "$2")"
}
one_cluster anchor-pod-0 anchor-pod-1
status anchor-pod-0 | sed 's/^/    /'; echo

# Memory at idle (no session yet): the silo process' RSS and the PSS of the container's Chromium processes.
memory() { # <container>
  local silo_kb=0 chromium_kb=0 pid comm kb
  while read -r pid comm; do
    case "$comm" in
      dotnet) silo_kb=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status") ;;
      chrom*) kb=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0); chromium_kb=$((chromium_kb + ${kb:-0})) ;;
    esac
  done < <(podman top "$1" hpid comm | awk 'NR>1{print $1, $2}')
  echo "silo RSS $((silo_kb / 1024)) MiB, Chromium PSS $((chromium_kb / 1024)) MiB"
}
say "idle memory anchor-pod-0: $(memory anchor-pod-0-silo); anchor-pod-1: $(memory anchor-pod-1-silo)"

# --- An MCP agent drives the fixture page through Chromium in the container ---------------------------------------
mcp() { # <base-url> <json> [header-file]: one JSON-RPC message on the agent's transport session
  local headers=(-H "Authorization: Bearer $agent_key" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
  [ -n "${mcp_session:-}" ] && headers+=(-H "Mcp-Session-Id: $mcp_session")
  curl -s -m 200 -D "${3:-$work/headers}" "${headers[@]}" -d "$2" "$1/mcp"
}
tool() { # <base-url> <name> <arguments-json>
  mcp "$1" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":${3:-{\}}}}" "${4:-$work/headers}"
}
a=http://$(pod_ip anchor-pod-0):8080
b=http://$(pod_ip anchor-pod-1):8080
mcp_session=""
mcp "$a" '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"deploy-test","version":"1"}}}' >/dev/null
mcp_session=$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
[ -n "$mcp_session" ] || fail "initialize returned no Mcp-Session-Id"
mcp "$a" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null

created=$(tool "$a" browser_session_create)
# The tool result is JSON inside the JSON-RPC text content, its quotes escaped (\u0022 or \").
session=$(sed -e 's/\\u0022/"/g' -e 's/\\"/"/g' <<<"$created" | grep -oE '"session_id":"[^"]+"' | head -1 | cut -d'"' -f4)
[ -n "$session" ] || fail "browser_session_create: ${created:0:400}"
fixture=http://fixture-pod-0:8000/
tool "$a" browser_navigate "{\"session_id\":\"$session\",\"url\":\"$fixture\"}" | grep -q 'Anchor fixture' \
  || fail "browser_navigate to $fixture did not show the fixture: $(tool "$a" browser_snapshot "{\"session_id\":\"$session\"}" | head -c 600)"
tool "$b" browser_type "{\"session_id\":\"$session\",\"target\":\"#note\",\"text\":\"kept across the rollout\"}" >/dev/null
tool "$a" browser_click "{\"session_id\":\"$session\",\"target\":\"#save\"}" >/dev/null
snapshot=$(tool "$b" browser_snapshot "{\"session_id\":\"$session\"}")
grep -q 'saved: kept across the rollout' <<<"$snapshot" || fail "the page did not take the agent's note: ${snapshot:0:600}"
session_silo() { curl -sf -m 10 -H "Authorization: Bearer $operator_key" "$1/api/sessions" | grep -o '"silo":"[^"]*"' | head -1 | cut -d'"' -f4; }
before=$(session_silo "$a")
say "agent: session $session drove $fixture through both silos (type, click, snapshot: 'saved: kept across the rollout'); it lives on $before"
say "with a session: anchor-pod-0: $(memory anchor-pod-0-silo); anchor-pod-1: $(memory anchor-pod-1-silo)"

# --- Rolling update: maxSurge 1, maxUnavailable 0 -------------------------------------------------------------------
# The agent keeps calling through the "Service" (round robin over the pods in $work/endpoints, which gains a new
# pod when it is ready and loses an old one before it is stopped, as endpoints do) and logs every call's time.
printf '%s\n' "$a" "$b" > "$work/endpoints"
agent_loop() {
  local i=0 targets target start code retries
  while :; do
    mapfile -t targets < "$work/endpoints"
    target=${targets[$((i % ${#targets[@]}))]}
    i=$((i + 1))
    start=$(now_ms)
    retries=0
    while :; do
      body=$(tool "$target" browser_snapshot "{\"session_id\":\"$session\"}" "$work/loop-headers") || true
      if grep -q 'saved: kept across the rollout' <<<"$body"; then
        code=ok
      elif grep -q 'retry in' <<<"$body" && [ $retries -lt 3 ]; then
        # What the product tells an agent to do with a retryable refusal (e.g. a call in the moment a silo leaves).
        retries=$((retries + 1)); sleep 1; continue
      else
        code=fail; printf '%s\n' "${body:0:600}" >> "$work/failed-calls"
      fi
      break
    done
    echo "$(( $(now_ms) - start )) $code $target $(date -u +%T.%3N) retries=$retries" >> "$work/calls"
    sleep 0.5
  done
}
agent_loop & echo $! > "$work/rollout.pid"

kubectl kustomize deploy/k8s/overlays/podman > "$work/rendered.yaml"
# One new pod's manifest: the ConfigMap and the silo Deployment, renamed, one replica, the second tag.
new_pod_manifest() { # <name>
  awk -v RS='\n---\n' -v ORS='\n---\n' '/(^|\n)kind: ConfigMap\n/ || (/(^|\n)kind: Deployment\n/ && /\n  name: anchor\n/)' "$work/rendered.yaml" \
    | sed -e "s#image: localhost/anchor-orleans:podman#image: $next#" -e "s#^  name: anchor\$#  name: $1#" -e 's#^  replicas: 2$#  replicas: 1#'
}
rollout_start=$(now_ms)
for i in 0 1; do
  new=anchor-next-$i
  new_pod_manifest "$new" > "$work/$new.yaml"
  play "$work/$new.yaml"
  wait_ready "$new-pod-0"
  echo "http://$(pod_ip "$new-pod-0"):8080" >> "$work/endpoints"
  old=anchor-pod-$i
  old_url=http://$(pod_ip "$old"):8080
  grep -v -x -F "$old_url" "$work/endpoints" > "$work/endpoints.new"; mv "$work/endpoints.new" "$work/endpoints"
  stop_start=$(now_ms)
  # SIGTERM to the silo first (terminationGracePeriodSeconds 60): stopping the pod would also stop its infra
  # container, and with it the network, while the silo drains. podman runs no preStop hook.
  podman stop -t 60 "$old-silo" >/dev/null 2>>"$work/podman.log"
  exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$old-silo")
  say "rolling update: $new-pod-0 ready, then $old drained and stopped in $(( ($(now_ms) - stop_start) / 1000 )) s (exit $exit_code)"
  # The silo's own account of the drain (JSON console logs: time and message only).
  podman logs --since "$((stop_start / 1000))" "$old-silo" 2>&1 | grep -iE 'drain|shutting|moved' | head -6 \
    | sed -nE 's/.*"Timestamp":"[^T]*T([^"]*)Z".*"Message":"(([^"\\]|\\.)*)".*/    \1 \2/p' | cut -c1-200 || true
  podman logs "$old-silo" > "$logs/$old.log" 2>&1 || true
  podman pod rm -f "$old" >/dev/null 2>>"$work/podman.log"
done
sleep 2
kill "$(cat "$work/rollout.pid")"; rm -f "$work/rollout.pid"
a=$(sed -n 1p "$work/endpoints"); b=$(sed -n 2p "$work/endpoints")
cp "$work/calls" "$logs/agent-calls.txt"
calls=$(wc -l < "$work/calls")
failed=$(grep -c ' fail ' "$work/calls" || true)
retried=$(grep -vc 'retries=0' "$work/calls" || true)
longest=$(sort -n "$work/calls" | tail -1 | cut -d' ' -f1)
say "rolling update took $(( ($(now_ms) - rollout_start) / 1000 )) s: $calls agent calls, $failed failed, $retried retried after a retryable refusal, longest ${longest} ms (with retries)"
[ "$failed" = 0 ] || { cat "$work/failed-calls" | tee "$logs/failed-calls.txt" | head -c 2000; fail "agent calls failed during the rolling update"; }

snapshot=$(tool "$a" browser_snapshot "{\"session_id\":\"$session\"}")
grep -q 'saved: kept across the rollout' <<<"$snapshot" || fail "the session did not survive the rolling update: ${snapshot:0:600}"
after=$(session_silo "$a")
[ -n "$after" ] && [ "$after" != "$before" ] || fail "the session was not restored on a new silo (before $before, after $after)"
say "session $session survived the rolling update: on $before before, restored on $after with its page and localStorage"
one_cluster anchor-next-0-pod-0 anchor-next-1-pod-0

# --- Emergency stop through one silo refuses calls on the other --------------------------------------------------
curl -sf -X POST -H "Authorization: Bearer $operator_key" -H 'Content-Type: application/json' \
  -d '{"reason":"deploy test"}' "$a/api/emergency-shutdown" | grep -q '"tripped":true' || fail "the switch did not trip"
trip=$(now_ms)
until tool "$b" budget_status | grep -q 'emergency_shutdown'; do
  [ $(( $(now_ms) - trip )) -lt 5000 ] || fail "the other silo did not refuse work within 5 s"
  sleep 0.1
done
say "emergency stop through $a: $b refuses with emergency_shutdown after $(( $(now_ms) - trip )) ms"
curl -sf -X DELETE -H "Authorization: Bearer $operator_key" "$a/api/emergency-shutdown" >/dev/null || true

# --- Tear down ------------------------------------------------------------------------------------------------------
for c in anchor-next-0-pod-0-silo anchor-next-1-pod-0-silo; do podman logs "$c" > "$logs/${c%-silo}.log" 2>&1 || true; done
down_start=$(now_ms)
# The new silos' manifests, then the rest of the overlay without the old silo Deployment (its pods were replaced
# one by one above, as a ReplicaSet's are; `kube down` stops at a pod that is gone).
awk -v RS='\n---\n' -v ORS='\n---\n' '!(/(^|\n)kind: Deployment\n/ && /\n  name: anchor\n/)' "$work/rendered.yaml" > "$work/rest.yaml"
for f in "$work"/anchor-next-*.yaml "$work/rest.yaml"; do
  podman kube down "$f" >/dev/null 2>>"$work/podman.log" || { cat "$work/podman.log"; fail "podman kube down $f"; }
done
say "podman kube down in $(( ($(now_ms) - down_start) / 1000 )) s"
left_pods=$(podman pod ps --format '{{.Name}}' --filter network="$network")
left_containers=$(podman ps -a --format '{{.Names}}' --filter network="$network")
left_chromium=$(container_chromium)
[ -z "$left_pods$left_containers$left_chromium" ] \
  || fail "left running: pods [$left_pods] containers [$left_containers] chromium [$left_chromium]"
say "nothing left running: 0 pods, 0 containers, 0 Chromium processes of the image's user"
say "deployment test passed"
