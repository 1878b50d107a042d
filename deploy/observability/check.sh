#!/usr/bin/env bash
# Validates deploy/observability: Prometheus config and rules, rule unit tests, Alertmanager
# config and routing, Grafana provisioning and dashboards. Works from any directory.
# Installs the Debian packages `prometheus` (promtool) and `prometheus-alertmanager` (amtool)
# when they are missing and it runs as root; otherwise says what to install and exits 1.
set -uo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" || exit 1

# ------------------------------------------------------------------ tools
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() { apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"; }
    if ! apt_install; then
      apt-get -o DPkg::Lock::Timeout=300 update && apt_install || {
        echo "FAIL: could not install ${missing[*]}" >&2; exit 1; }
    fi
  else
    echo "missing: promtool/amtool. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

failures=0
step() { # step <description> <command...>
  local desc=$1; shift
  local out
  if out=$("$@" 2>&1); then
    echo "ok   $desc"
  else
    echo "FAIL $desc"
    printf '%s\n' "$out" | sed 's/^/     /'
    failures=$((failures + 1))
  fi
}

# ------------------------------------------------------------------ Prometheus
step "promtool check config prometheus.yml" promtool check config prometheus.yml
step "promtool check rules alerts.yml" promtool check rules alerts.yml
step "promtool test rules alerts.test.yml" promtool test rules alerts.test.yml

untested() { # every alert in alerts.yml must appear in alerts.test.yml
  local name bad=0
  for name in $(sed -n 's/^[[:space:]]*- alert:[[:space:]]*\([A-Za-z0-9_]*\).*/\1/p' alerts.yml); do
    grep -q "alertname: ${name}\$" alerts.test.yml || { echo "no unit test for ${name}"; bad=1; }
  done
  return $bad
}
step "every alert has a unit test" untested

runbooks() { # every runbook_url path exists in the repository
  local url bad=0 root=../..
  for url in $(sed -n 's/^[[:space:]]*runbook_url:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' alerts.yml | sort -u); do
    [[ -f $root/$url ]] || { echo "missing runbook: $url"; bad=1; }
  done
  return $bad
}
if [[ -d ../../docs/runbooks ]]; then
  step "runbook_url targets exist" runbooks
else
  echo "skip runbook_url targets (docs/runbooks/ not present yet)"
fi

# ------------------------------------------------------------------ Alertmanager
step "amtool check-config alertmanager.yml" amtool check-config alertmanager.yml

route_is() { # route_is <expected receivers> <label=value...>
  local want=$1 got; shift
  got=$(amtool config routes test --config.file=alertmanager.yml "$@" 2>/dev/null)
  [[ $got == "$want" ]] || { echo "labels [$*] route to '$got', want '$want'"; return 1; }
}
step "critical routes to pagerduty + slack" route_is "pagerduty,slack-critical" alertname=AnchorSiloDown severity=critical
step "warning routes to slack" route_is "slack-warnings" alertname=AnchorBudgetWarning severity=warning

# ------------------------------------------------------------------ Grafana
for f in grafana/dashboards/*.json; do
  if command -v python3 >/dev/null 2>&1; then
    step "json $f" python3 -m json.tool "$f"
  else
    step "json $f" jq empty "$f"
  fi
done

dashboards_promql() { # dashboard structure, and every panel query parses as PromQL
  command -v python3 >/dev/null 2>&1 || { echo "python3 not found: skipped"; return 0; }
  local tmp rc
  tmp=$(mktemp -d) || return 1
  python3 - "$tmp/queries.yml" grafana/dashboards/*.json <<'PY' && promtool check rules "$tmp/queries.yml" >/dev/null
import json, sys
out, files = sys.argv[1], sys.argv[2:]
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$instance": ".*"}
rules, errors, uids = [], [], set()  # one rule group per query: errors name the panel
for path in files:
    d = json.load(open(path))
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in d:
            errors.append(f"{path}: no {key}")
    if d.get("uid") in uids:
        errors.append(f"{path}: duplicate uid {d.get('uid')}")
    uids.add(d.get("uid"))
    ids = [p.get("id") for p in d.get("panels", [])]
    if len(ids) != len(set(ids)):
        errors.append(f"{path}: duplicate panel ids")
    for p in d.get("panels", []):
        if p.get("type") == "row":
            continue
        if not p.get("targets"):
            errors.append(f"{path}: panel {p.get('title')!r} has no query")
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            for k, v in subst.items():
                expr = expr.replace(k, v)
            if not expr:
                errors.append(f"{path}: panel {p.get('title')!r} has an empty query")
            name = f"{path} panel {p.get('id')} {p.get('title')!r} query {t.get('refId')}"
            rules.append({"name": name, "rules": [{"record": "dashboard:query", "expr": expr}]})
for e in errors:
    print(e)
json.dump({"groups": rules}, open(out, "w"))
sys.exit(1 if errors else 0)
PY
  rc=$?
  rm -rf "$tmp"
  return $rc
}
step "dashboards: structure and PromQL" dashboards_promql

if command -v yamllint >/dev/null 2>&1; then
  step "yamllint -d relaxed" yamllint -d relaxed .
else
  echo "skip yamllint (not installed)"
fi

echo
if ((failures)); then
  echo "observability check: ${failures} failure(s)"
  exit 1
fi
echo "observability check: all passed"
