#!/bin/bash
# Sets up a Debian 12 machine (as root) for shoal: system packages, npm dependencies, a running
# dockerd, the local test image. Idempotent: run it as often as you like.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

PACKAGES=(docker.io etcd-server etcd-client nftables iproute2 iptables busybox-static docker-registry bridge-utils conntrack procps psmisc curl ca-certificates)
missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  log "Node.js 20 or newer is required"; exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi

bash scripts/start-dockerd.sh

if ! docker -H unix:///var/run/docker.sock image inspect busybox:local >/dev/null 2>&1; then
  log "building the busybox:local test image"
  DOCKER_HOST=unix:///var/run/docker.sock bash scripts/make-test-image.sh busybox:local >/dev/null
fi
log "ready"
