#!/usr/bin/env bash
# Builds the silo image with podman from this repository's Dockerfile, with or without a registry.
#   scripts/image.sh            -> builds localhost/anchor-orleans:<commit> (restore and publish inside the build)
#   ANCHOR_IMAGE_PREBUILT=1 scripts/image.sh
#                               -> the same image, /app published on the host into artifacts/publish (from the
#                                  Release build already on this machine) and copied in: no SDK base, no restore
#                                  or publish in a container (the Dockerfile's APP_SOURCE=prebuilt)
# Where no registry answers (or ANCHOR_OFFLINE=1), the Dockerfile's three bases are made locally first and
# kept for the next run: localhost/debian:trixie (debootstrap from the apt mirror), localhost/dotnet-aspnet:10.0
# (this machine's .NET runtime) and localhost/dotnet-sdk:10.0 (that Debian plus this machine's .NET SDK; not in
# the prebuilt mode, which never builds the stage that needs it).
# Build output goes to stderr; stdout ends with the image size and, as its last line, the image reference.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prerequisites.sh
use_podman
require_packages curl=curl

tag=${ANCHOR_IMAGE_TAG:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo dev)}
ref=localhost/anchor-orleans:$tag

have_image() { podman image exists "$1"; }

registry_answers() {
  [ "${ANCHOR_OFFLINE:-0}" = 1 ] && return 1
  # Any HTTP answer (even 401) means the registry is reachable; 000 means it is not.
  local code
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' https://mcr.microsoft.com/v2/ || true)
  [ "$code" != 000 ] || return 1
  code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ || true)
  [ "$code" != 000 ]
}

apt_mirror() {
  local uri
  uri=$(grep -hsoE '^(URIs:|deb) *(\[[^]]*\] *)?https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | grep -v security | head -1)
  echo "${uri:-http://deb.debian.org/debian}"
}

make_debian_base() {
  have_image localhost/debian:trixie && return 0
  require_packages debootstrap=debootstrap
  local root
  root=$(mktemp -d /var/tmp/anchor-debian.XXXXXX)
  echo "Making localhost/debian:trixie with debootstrap from $(apt_mirror)" >&2
  debootstrap --variant=minbase trixie "$root" "$(apt_mirror)" >&2
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
  tar -C "$root" -c . | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - localhost/debian:trixie >&2
  rm -rf "$root"
}

make_dotnet_bases() {
  require_dotnet
  local root
  root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  if ! have_image localhost/dotnet-aspnet:10.0; then
    # The runtime stage copies /usr/share/dotnet from this image: the host, the muxer and the shared runtimes.
    echo "Making localhost/dotnet-aspnet:10.0 from $root" >&2
    tar -C "$root" --transform 's,^\.,usr/share/dotnet,' -c ./dotnet ./host ./shared ./LICENSE.txt ./ThirdPartyNotices.txt \
      | podman import - localhost/dotnet-aspnet:10.0 >&2
  fi
  if [ "$prebuilt" != 1 ] && ! have_image localhost/dotnet-sdk:10.0; then
    echo "Making localhost/dotnet-sdk:10.0 from localhost/debian:trixie and $root" >&2
    local ctx
    ctx=$(mktemp -d /var/tmp/anchor-sdk.XXXXXX)
    cat > "$ctx/Containerfile" <<'CONTAINERFILE'
FROM localhost/debian:trixie
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libicu76 libssl3t64 libstdc++6 zlib1g && rm -rf /var/lib/apt/lists/*
# This machine's extra certificate authorities (e.g. an egress proxy's), so that restore reaches NuGet.
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ARG NUGET_CERT_REVOCATION_MODE=online
ENV NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE}
COPY dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet && dotnet --list-sdks
ENV DOTNET_ROOT=/usr/share/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CONTAINERFILE
    cp -a "$root" "$ctx/dotnet"
    mkdir "$ctx/ca"
    cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/" 2>/dev/null || true
    podman build --build-arg NUGET_CERT_REVOCATION_MODE="${NUGET_CERT_REVOCATION_MODE:-online}" \
      -t localhost/dotnet-sdk:10.0 "$ctx" >&2
    rm -rf "$ctx"
  fi
}

prebuilt=${ANCHOR_IMAGE_PREBUILT:-0}
case "$(uname -m)" in
  x86_64) arch=amd64 playwright_platform=linux-x64 ;;
  aarch64) arch=arm64 playwright_platform=linux-arm64 ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

# The Dockerfile's build stage, on the host: the same publish properties and the same chmod.
publish_on_host() {
  require_dotnet
  local out=artifacts/publish no_build=(--no-build) start=$(date +%s)
  if [ ! -f src/Silo/bin/Release/net10.0/Anchor.Orleans.Silo.dll ]; then
    echo "No Release build of the silo here: publish builds it first." >&2
    no_build=()
  fi
  rm -rf "$out"
  dotnet publish src/Silo/Anchor.Orleans.Silo.csproj --configuration Release "${no_build[@]}" --output "$out" \
    -p:UseAppHost=false -p:PlaywrightPlatform="$playwright_platform" >&2
  chmod -R a+rX "$out" && chmod 0755 "$out"/.playwright/node/*/node
  echo "Published the silo on the host into $out in $(( $(date +%s) - start )) s" >&2
}

args=()
if [ "$prebuilt" = 1 ]; then
  echo "Prebuilt mode (ANCHOR_IMAGE_PREBUILT=1): /app is published on the host, no build stage in the image." >&2
  publish_on_host
  args+=(--build-arg APP_SOURCE=prebuilt)
fi
if registry_answers; then
  echo "A registry answers: building from the official base images." >&2
else
  echo "No registry answers: building from local base images." >&2
  make_debian_base
  make_dotnet_bases
  # In the prebuilt mode the SDK base is never made; the build stage naming it is skipped.
  args+=(--build-arg SDK_IMAGE=localhost/dotnet-sdk:10.0
         --build-arg ASPNET_IMAGE=localhost/dotnet-aspnet:10.0
         --build-arg RUNTIME_IMAGE=localhost/debian:trixie)
fi

# BuildKit sets TARGETARCH itself; podman 4.3 does not.
args+=(--build-arg TARGETARCH=$arch)

start=$(date +%s)
podman build "${args[@]}" --layers -t "$ref" . >&2
echo "Built $ref in $(( $(date +%s) - start )) s" >&2
size=$(podman image inspect --format '{{.Size}}' "$ref")
echo "image size: $(( size / 1000000 )) MB ($size bytes)"
echo "$ref"
