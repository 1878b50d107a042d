#!/usr/bin/env bash
# Shared by run.sh and test.sh: makes sure the Debian packages a command needs are present.
# As root it installs what is missing; otherwise it says exactly what to install and stops.

# require_packages <binary>=<debian-package> ...
require_packages() {
  local missing=() pair bin pkg
  for pair in "$@"; do
    bin=${pair%%=*}
    pkg=${pair#*=}
    command -v "$bin" >/dev/null 2>&1 || [ -x "$bin" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing missing Debian packages: ${missing[*]}" >&2
    # apt may be busy right after boot (unattended upgrades): wait for its lock instead of failing.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Missing: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}

# require_node <major>: the npm peers (the MCP TypeScript SDK, @playwright/mcp) need Node.js <major> or newer.
require_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if (( major < $1 )); then
    echo "Node.js $1 or newer is required (found: $(node --version 2>/dev/null || echo none)); Debian 12's nodejs is 18: install $1 from NodeSource there." >&2
    exit 1
  fi
}

require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET SDK 10 is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
    exit 1
  fi
}

# use_podman: podman with runc and ulimits inside this machine's hard limits (crun cannot start containers
# on some hosts: "setrlimit RLIMIT_NOFILE: Operation not permitted"). Leaves an existing CONTAINERS_CONF alone.
use_podman() {
  # netavark before podman's first use: with it podman's networks have DNS (aardvark-dns), with CNI they do not.
  # netavark sets up container networking with iptables, which a minimal host may lack ("netavark: No such file").
  require_packages podman=podman runc=runc /usr/lib/podman/netavark=netavark /usr/lib/podman/aardvark-dns=aardvark-dns /usr/sbin/iptables=iptables
  if [ -z "${CONTAINERS_CONF:-}" ]; then
    local dir="${XDG_RUNTIME_DIR:-/tmp}/anchor-podman-$(id -u)"
    mkdir -p "$dir"
    printf '[engine]\nruntime="runc"\n[containers]\ndefault_ulimits=["nofile=%s:%s","nproc=32768:32768"]\n' \
      "$(ulimit -Hn)" "$(ulimit -Hn)" > "$dir/containers.conf"
    export CONTAINERS_CONF="$dir/containers.conf"
  fi
}
