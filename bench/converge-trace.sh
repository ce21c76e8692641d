#!/bin/bash
# Where does a converge spend its time: orchestrator or dockerd? Creates a service of N replicas through
# DOCKER_HOST (real Swarm or shoal, already initialised), polls until N tasks are Running as
# lifecycle.sh does, and reads dockerd's own container events (on the local dockerd) for the same
# interval. Prints, in ms after `service create` was issued: when all N were seen Running, and the
# first/last create and start events. Then removes the service and waits (bounded) for its containers.
# usage: DOCKER_HOST=... bench/converge-trace.sh N
set -uo pipefail
N=${1:-10}; NAME=trace$$; REAL=unix:///var/run/docker.sock; EV=$(mktemp)
trap 'rm -f "$EV"' EXIT
now() { date +%s%N; }
timeout 200 docker -H "$REAL" events --filter type=container --filter "label=com.docker.swarm.service.name=$NAME" \
  --format '{{.TimeNano}} {{.Action}}' >"$EV" &
ep=$!
sleep 0.5
s=$(now)
timeout 60 docker service create -d -q --name "$NAME" --replicas "$N" --restart-delay 0s --stop-grace-period 1s \
  busybox:local sleep 100000 >/dev/null 2>&1
polls=0
while :; do
  r=$(timeout 30 docker service ps "$NAME" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running')
  polls=$((polls + 1)); [ "$r" -ge "$N" ] && break
  [ $(( ($(now) - s) / 1000000000 )) -gt 150 ] && { echo "timeout: $r/$N Running"; break; }
  sleep 0.1
done
e=$(now); sleep 1; kill "$ep" 2>/dev/null; wait "$ep" 2>/dev/null
echo "N=$N all_running_seen_ms=$(( (e - s) / 1000000 )) polls=$polls"
awk -v s="$s" '{n[$2]++; t=($1-s)/1e6; if (!($2 in f)) f[$2]=t; l[$2]=t}
  END {for (k in n) if (k=="create" || k=="start") printf "  %-6s count=%d first=%dms last=%dms\n", k, n[k], f[k], l[k]}' "$EV" | sort
timeout 60 docker service rm "$NAME" >/dev/null
for _ in $(seq 600); do docker -H "$REAL" ps -aq --filter "label=com.docker.swarm.service.name=$NAME" | grep -q . || break; sleep 0.2; done
