#!/bin/bash
# Starts Debian's containerd and dockerd on the default socket unless a dockerd already answers there.
set -euo pipefail
SOCK=/var/run/docker.sock
DOCKER=/usr/bin/docker
if "$DOCKER" -H unix://$SOCK version >/dev/null 2>&1; then exit 0; fi
mkdir -p /var/log/shoal
if [ ! -S /run/containerd/containerd.sock ]; then
  (setsid containerd >/var/log/shoal/containerd.log 2>&1 &)
  for _ in $(seq 50); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.2; done
fi
(setsid dockerd --containerd=/run/containerd/containerd.sock >/var/log/shoal/dockerd.log 2>&1 &)
for _ in $(seq 100); do
  "$DOCKER" -H unix://$SOCK version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "dockerd did not start; see /var/log/shoal/dockerd.log" >&2
tail -20 /var/log/shoal/dockerd.log >&2 || true
exit 1
