#!/bin/bash
# Starts Debian's containerd and dockerd on the default sockets unless a dockerd already answers.
# A socket file alone proves nothing: /run can keep the sockets of daemons that died with their
# machine, so containerd is probed with `ctr version` and a dead socket is removed first.
set -euo pipefail
SOCK=/var/run/docker.sock
CTRD_SOCK=/run/containerd/containerd.sock
DOCKER=/usr/bin/docker
LOG_DIR=/var/log/shoal
mkdir -p "$LOG_DIR"

docker_answers() { timeout 5 "$DOCKER" -H unix://$SOCK version >/dev/null 2>&1; }
containerd_answers() { timeout 5 ctr --address "$CTRD_SOCK" version >/dev/null 2>&1; }

wait_for() { # <tries of 0.2 s> <command...>
  local tries=$1
  shift
  for _ in $(seq "$tries"); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

if docker_answers; then exit 0; fi

if ! containerd_answers; then
  pkill -x containerd 2>/dev/null || true
  rm -f "$CTRD_SOCK" "$CTRD_SOCK.ttrpc"
  (setsid containerd >"$LOG_DIR/containerd.log" 2>&1 &)
  if ! wait_for 150 containerd_answers; then
    echo "containerd did not start; see $LOG_DIR/containerd.log" >&2
    tail -20 "$LOG_DIR/containerd.log" >&2 || true
    exit 1
  fi
fi

# A dockerd that died uncleanly leaves its pid file, which makes the next one refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
rm -f "$SOCK"
(setsid dockerd --containerd="$CTRD_SOCK" >"$LOG_DIR/dockerd.log" 2>&1 &)
if wait_for 300 docker_answers; then exit 0; fi
echo "dockerd did not start; see $LOG_DIR/dockerd.log" >&2
tail -20 "$LOG_DIR/dockerd.log" >&2 || true
exit 1
