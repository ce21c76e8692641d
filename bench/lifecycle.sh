#!/bin/bash
# Copied from ../shared/bench/lifecycle.sh (the shared scenario both systems run; credit: its authors).
# The steps, their order, the commands timed and where each timer starts and stops are unchanged. Added,
# only so that one failing step cannot hang or silently corrupt a whole comparison run:
#   - WAIT_TIMEOUT (s, default 600 as in the original) bounds every wait for Running tasks;
#   - UPDATE_TIMEOUT (s, default 600) bounds `docker service update`, which has no bound in the original;
#     a step whose command fails or times out is still printed, with "ok":false and its exit code (124 =
#     timeout), so it is reported as failed and never as a time;
#   - heal_after_kill fails ("ok":false) if no container of the service was found to kill;
#   - after rolling_update, an untimed check line counts the service's running containers that carry
#     the new environment (X=1): {"step":"rolling_update_check","updated":K,"want":2N};
#   - remove fails at once ("ok":false, with the error) when `docker service rm` itself fails;
#   - every docker call gets a bound (DOCKER_CALL_TIMEOUT, default 60 s) so a hung API cannot hang us.
# usage: DOCKER_HOST=... lifecycle.sh N [image]     prints one JSON line per step: {"step":..,"n":..,"ms":..}
set -uo pipefail
N=${1:-10}; IMG=${2:-busybox:local}; NAME=bench$$
WAIT_TIMEOUT=${WAIT_TIMEOUT:-600}; UPDATE_TIMEOUT=${UPDATE_TIMEOUT:-600}; CT=${DOCKER_CALL_TIMEOUT:-60}
dk() { timeout "$CT" docker "$@"; }
now() { date +%s%N; }
running() { dk service ps "$NAME" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running'; }
wait_running() { local want=$1 limit=$(( $(now) + WAIT_TIMEOUT * 1000000000 )); while [ "$(running)" -lt "$want" ]; do [ "$(now)" -gt $limit ] && { echo "{\"step\":\"timeout\",\"want\":$want}"; exit 1; }; sleep 0.1; done; }
emit() { echo "{\"step\":\"$1\",\"n\":$2,\"ms\":$(( ($(now)-$3)/1000000 ))${4:+,$4}}"; }
s=$(now); dk service create -d -q --name "$NAME" --replicas "$N" --restart-delay 0s --stop-grace-period 1s "$IMG" sleep 100000 >/dev/null; wait_running "$N"; emit converge "$N" "$s"
s=$(now); dk service scale -d "$NAME=$((2*N))" >/dev/null 2>&1; wait_running $((2*N)); emit scale_up $((2*N)) "$s"
c=$(dk ps -q --filter "label=com.docker.swarm.service.name=$NAME" | head -1)
if [ -n "$c" ]; then
  s=$(now); dk kill "$c" >/dev/null; sleep 0.3; wait_running $((2*N)); emit heal_after_kill 1 "$s"
else
  echo "{\"step\":\"heal_after_kill\",\"n\":1,\"ok\":false,\"error\":\"no container found\"}"
fi
s=$(now); timeout "$UPDATE_TIMEOUT" docker service update -q --update-parallelism 2 --update-delay 0s --update-monitor 1s --env-add X=1 "$NAME" >/dev/null 2>&1; rc=$?
if [ $rc = 0 ]; then emit rolling_update $((2*N)) "$s"; else emit rolling_update $((2*N)) "$s" "\"ok\":false,\"rc\":$rc"; fi
k=0; for id in $(dk ps -q --filter "label=com.docker.swarm.service.name=$NAME"); do dk inspect --format '{{json .Config.Env}}' "$id" 2>/dev/null | grep -q '"X=1"' && k=$((k+1)); done
echo "{\"step\":\"rolling_update_check\",\"n\":$((2*N)),\"updated\":$k,\"want\":$((2*N))}"
s=$(now); err=$(dk service rm "$NAME" 2>&1 >/dev/null) || { echo "{\"step\":\"remove\",\"n\":$((2*N)),\"ok\":false,\"error\":$(echo "$err" | head -1 | jq -R .)}"; exit 1; }; while dk ps -q --filter "label=com.docker.swarm.service.name=$NAME" | grep -q .; do [ $(( ($(now)-s)/1000000000 )) -gt "$WAIT_TIMEOUT" ] && { echo "{\"step\":\"timeout\",\"want\":0}"; exit 1; }; sleep 0.1; done; emit remove $((2*N)) "$s"
