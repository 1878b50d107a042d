# syntax=docker/dockerfile:1.7
#
# Anchor.Orleans silo image: the ASP.NET Core front, the Orleans silo and Debian's Chromium in one container.
#
#   docker build -t anchor-orleans:dev .
#   docker run --rm -p 8080:8080 -e ASPNETCORE_ENVIRONMENT=Development anchor-orleans:dev
#
# Without a registry (scripts/image.sh does this): the three base images are build arguments, and local
# images with the same contents stand in for the official ones - the stages, users, flags and files
# below are the same either way:
#   podman build --build-arg SDK_IMAGE=localhost/dotnet-sdk:10.0 \
#     --build-arg ASPNET_IMAGE=localhost/dotnet-aspnet:10.0 --build-arg RUNTIME_IMAGE=localhost/debian:trixie .
#
# Fast variant (scripts/image.sh with ANCHOR_IMAGE_PREBUILT=1; the deploy test uses it): the silo is published on
# the host into artifacts/publish with the same properties as the build stage below, and /app comes from there:
#   podman build --build-arg APP_SOURCE=prebuilt ...
# The build stage (and its SDK base) is then never built: podman/buildah and BuildKit skip unused stages.
#
# Staging/Production (the image default) refuse to start without Redis and API keys: see docs/deploy.md.

ARG DOTNET_VERSION=10.0
# Microsoft ships .NET 10 images on Ubuntu only, where `chromium` is a snap stub that cannot run in a
# container. The runtime stage therefore is Debian with the ASP.NET Core runtime copied in from the
# official image, so Chromium comes from Debian's own package at /usr/bin/chromium.
ARG DEBIAN_RELEASE=trixie
# The bases. SDK_IMAGE needs the .NET SDK on PATH, ASPNET_IMAGE the ASP.NET Core shared runtime under
# /usr/share/dotnet, RUNTIME_IMAGE a Debian ${DEBIAN_RELEASE} with apt.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}
ARG ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}
ARG RUNTIME_IMAGE=debian:${DEBIAN_RELEASE}-slim
# Where /app comes from: build (restore and publish in the build stage) or prebuilt (artifacts/publish).
ARG APP_SOURCE=build

# ---------------------------------------------------------------------------------------------------
# build: restore and publish the silo (framework-dependent, portable). Runs on the builder's own
# architecture; only the Playwright driver is architecture-specific and is picked from TARGETARCH.
FROM --platform=$BUILDPLATFORM ${SDK_IMAGE} AS build
ARG TARGETARCH
WORKDIR /src

# Build-wide settings first: global.json pins the SDK band, the props files hold package versions and
# analyzer settings (TreatWarningsAsErrors, code style from .editorconfig).
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/

RUN --mount=type=cache,id=anchor-nuget,target=/root/.nuget/packages \
    case "${TARGETARCH:-amd64}" in \
      amd64) playwright_platform=linux-x64 ;; \
      arm64) playwright_platform=linux-arm64 ;; \
      *) echo "unsupported TARGETARCH '${TARGETARCH}'" >&2; exit 1 ;; \
    esac \
 && dotnet restore src/Silo/Anchor.Orleans.Silo.csproj \
 && dotnet publish src/Silo/Anchor.Orleans.Silo.csproj \
      --configuration Release \
      --no-restore \
      --disable-build-servers \
      --output /app \
      -p:UseAppHost=false \
      -p:PlaywrightPlatform=${playwright_platform}

# The NuGet package extracts Playwright's node driver as 0744 (executable by root only); the silo runs as
# APP_UID and starts it, so everything under /app is readable and the driver executable by all.
RUN chmod -R a+rX /app && chmod 0755 /app/.playwright/node/*/node

# ---------------------------------------------------------------------------------------------------
# app-build / app-prebuilt: the two sources of /app; `app` is the one APP_SOURCE names. The `:-build`
# fallback matters: buildah decides which stages to skip from the --build-arg values only, not from the
# ARG default, and would otherwise skip app-build.
FROM scratch AS app-build
COPY --from=build /app /app

# Published on the host (scripts/image.sh): dotnet publish src/Silo/Anchor.Orleans.Silo.csproj -c Release
# --no-build -o artifacts/publish -p:UseAppHost=false -p:PlaywrightPlatform=<platform>, then the same chmod.
FROM scratch AS app-prebuilt
COPY artifacts/publish/ /app/

FROM app-${APP_SOURCE:-build} AS app

# ---------------------------------------------------------------------------------------------------
# dotnet: only a source for the ASP.NET Core shared runtime (target architecture).
FROM ${ASPNET_IMAGE} AS dotnet

# ---------------------------------------------------------------------------------------------------
# runtime: Debian + ASP.NET Core runtime + Chromium and fonts, running as a non-root user.
FROM ${RUNTIME_IMAGE} AS runtime

ARG APP_UID=10001
ENV DEBIAN_FRONTEND=noninteractive

# .NET needs ca-certificates, OpenSSL, libstdc++, zlib and tzdata (ICU is not needed: the app runs
# with InvariantGlobalization). Chromium and its fonts come from Debian. tini is PID 1: it forwards
# SIGTERM to dotnet only (so the silo drains before it closes its browsers) and reaps orphaned
# Chromium helpers that would otherwise stay as zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libssl3t64 \
      libstdc++6 \
      tini \
      tzdata \
      zlib1g \
      chromium \
      fonts-liberation \
      fonts-noto-color-emoji \
 && rm -rf /var/lib/apt/lists/* \
 && test -x /usr/bin/chromium

# Flags for Chromium in a container, for any launch through Debian's /usr/bin/chromium wrapper (the
# app passes the same ones itself). --no-sandbox: Chromium's sandbox needs user namespaces, which the
# default seccomp profile of Docker and Kubernetes blocks; the container is the isolation boundary.
# --disable-dev-shm-usage: container /dev/shm is 64 MiB by default; shared memory goes to /tmp.
RUN printf '%s\n' \
      '# Anchor.Orleans: flags for running in a container.' \
      'export CHROMIUM_FLAGS="$CHROMIUM_FLAGS --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking --disable-component-update --disable-sync --no-first-run"' \
      > /etc/chromium.d/anchor-container

COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && dotnet --list-runtimes

# Chromium and ASP.NET Core data protection write under HOME; the app directory stays root-owned.
RUN groupadd --system --gid ${APP_UID} anchor \
 && useradd --system --uid ${APP_UID} --gid anchor --home-dir /home/anchor --create-home --shell /usr/sbin/nologin anchor

WORKDIR /app
COPY --from=app /app ./

ENV HOME=/home/anchor \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_NOLOGO=true \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Anchor__Browser__ExecutablePath=/usr/bin/chromium

USER ${APP_UID}:${APP_UID}

# 8080 HTTP (MCP, health, metrics, operator API); 11111 silo-to-silo; 30000 Orleans gateway.
EXPOSE 8080 11111 30000

# No HEALTHCHECK: Kubernetes uses its own probes (/health/ready, /health/live) and the image carries
# no HTTP client. Under plain Docker, probe http://<container>:8080/health/live from outside.

ENTRYPOINT ["/usr/bin/tini", "--", "dotnet", "Anchor.Orleans.Silo.dll"]
