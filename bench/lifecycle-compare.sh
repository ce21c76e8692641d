#!/bin/bash
# Runs the service-lifecycle scenario (bench/lifecycle.sh, a copy of ../shared/bench/lifecycle.sh) against
# real Docker Swarm (this machine's dockerd in swarm mode) and against shoal (a shoal daemon driving the
# same dockerd), one system at a time, and writes the raw series and a comparison report to bench/results/.
#
# usage: bench/lifecycle-compare.sh            (see bench/README.md)
# env:   NS="10 50"        replica counts (the scenario scales each to 2N)
#        REPS=3            runs of the scenario per system and N
#        SYSTEMS="swarm shoal floor"   floor: dockerd alone doing the scenario's container work
#                          (bench/dockerd-floor.ts), the bound no orchestrator on this dockerd can beat
#        ORDER=system      for each N: all of Swarm's runs, then all of shoal's (one swarm init, one shoal
#                          daemon per N); ORDER=rep alternates the systems run by run (a fresh swarm
#                          init / shoal daemon for every run), fairer when the machine's load drifts
#        WAIT_TIMEOUT=300  bound (s) on each wait for Running tasks inside the scenario
#        UPDATE_TIMEOUT    bound (s) on `docker service update`; default for Swarm 600, for shoal
#                          max(60, 3 x Swarm's slowest rolling_update at that N), 600 if Swarm was not run
#        SHOAL_SOURCE=head   run shoal from a clean export of the committed HEAD (git archive, node_modules
#                            linked), so the numbers belong to the recorded commit; "worktree" runs the
#                            work tree as it is, other engineers' uncommitted changes included
#        SHOAL_LOG_LEVEL=info   the daemon's --log-level (its log is kept under $WORK, printed at the end)
#        STAMP             name of the result files (default: UTC date-time)
# Never both at once: the real dockerd leaves swarm mode before shoal starts, and shoal stops before Swarm.
# The machine is left as found: real dockerd not in swarm mode, shoal daemon stopped, its data dir removed,
# no container of a bench service left. Other containers on the dockerd are never touched.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
NS=${NS:-10 50}; REPS=${REPS:-3}; SYSTEMS=${SYSTEMS:-swarm shoal floor}; ORDER=${ORDER:-system}; WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
SHOAL_LOG_LEVEL=${SHOAL_LOG_LEVEL:-info}; SHOAL_SOURCE=${SHOAL_SOURCE:-head}; STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%MZ)}
IMG=busybox:local; REAL=unix:///var/run/docker.sock
OUT=$HERE/results; WORK=$(mktemp -d /tmp/shoal-bench.XXXXXX); RAW=$WORK/raw.jsonl
SHOAL_PID=""; SHOAL_DIR=""; SAMPLER_PID=""; SWARM_BY_US=0
mkdir -p "$OUT"; : >"$RAW"; : >"$WORK/rss.jsonl"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
real() { timeout 60 docker -H "$REAL" "$@"; }
swarm_state() { real info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Containers of bench services (service names bench<pid>) on the real dockerd, whoever created them.
bench_containers() {
  real ps -a --filter label=com.docker.swarm.service.name \
    --format '{{.ID}} {{.Label "com.docker.swarm.service.name"}}' 2>/dev/null | awk '$2 ~ /^bench[0-9]+$/ {print $1}'
}
wait_no_bench_containers() { # seconds
  local t0=$SECONDS
  while [ -n "$(bench_containers)" ] && [ $((SECONDS - t0)) -lt "$1" ]; do sleep 0.5; done
}
# Removes bench services through the system's API (when `service rm` fails, scales the service to 0 first
# so that no container of it keeps running), waits (bounded) for their containers, then force-removes any
# container left over directly on the dockerd.
cleanup_bench() { # docker-host
  local s err
  for s in $(timeout 60 docker -H "$1" service ls --format '{{.Name}}' 2>/dev/null | grep -E '^bench[0-9]+$'); do
    err=$(timeout 60 docker -H "$1" service rm "$s" 2>&1 >/dev/null) && continue
    log "cleanup: service rm $s failed ($err); scaling it to 0"
    timeout 60 docker -H "$1" service scale -d "$s=0" >/dev/null 2>&1
    wait_no_bench_containers 120
    err=$(timeout 60 docker -H "$1" service rm "$s" 2>&1 >/dev/null) || log "cleanup: service rm $s failed again ($err)"
  done
  wait_no_bench_containers 120
  local left; left=$(bench_containers)
  [ -n "$left" ] && { log "force-removing leftover bench containers: $(echo $left)"; real rm -f $left >/dev/null 2>&1; }
}

swarm_up() {
  log "real Swarm: swarm init"
  real swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null || return 1
  SWARM_BY_US=1
}
swarm_down() {
  [ "$SWARM_BY_US" = 1 ] || return 0
  cleanup_bench "$REAL"
  log "real Swarm: swarm leave --force"
  real swarm leave --force >/dev/null 2>&1
  local i; for i in $(seq 60); do [ "$(swarm_state)" = inactive ] && break; sleep 0.5; done
  SWARM_BY_US=0; cleanup_bench "$REAL"
}

children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' \n' ' '; }
# A /proc/PID/status field in kB, or $3 (default 0) when the process is gone.
status_kb() { local v; v=$(awk -v k="$2:" '$1==k {print $2}' /proc/"$1"/status 2>/dev/null); echo "${v:-${3:-0}}"; }
# Every second: sum of VmRSS of the daemon and its children; keeps the largest sum seen (bounded by the pid).
rss_sampler() { # pid file
  local max=0 sum p
  while kill -0 "$1" 2>/dev/null; do
    sum=0; for p in $1 $(children "$1"); do sum=$((sum + $(status_kb "$p" VmRSS))); done
    [ "$sum" -gt "$max" ] && { max=$sum; echo "$max" >"$2"; }
    sleep 1
  done
}
shoal_up() { # n [run]
  SHOAL_DIR=$(mktemp -d /tmp/shoal-bench-data.XXXXXX); local port; port=$(free_port)
  local logf=$WORK/shoal-n$1${2:+-r$2}.log
  log "shoal: daemon (data dir $SHOAL_DIR, cluster port 127.0.0.1:$port, log $logf)"
  setsid "$SHOAL_TREE/bin/shoal" daemon --data-dir "$SHOAL_DIR" --engine-socket "$SHOAL_DIR/docker.sock" \
    --listen-addr "127.0.0.1:$port" --log-level "$SHOAL_LOG_LEVEL" >"$logf" 2>&1 &
  SHOAL_PID=$!
  local i; for i in $(seq 150); do [ -S "$SHOAL_DIR/docker.sock" ] && break; sleep 0.2; done
  SH="unix://$SHOAL_DIR/docker.sock"
  timeout 60 docker -H "$SH" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port" >/dev/null || return 1
  rm -f "$WORK/rss-sum"; rss_sampler "$SHOAL_PID" "$WORK/rss-sum" & SAMPLER_PID=$!
}
shoal_down() { # [n [runs]]
  [ -n "$SHOAL_PID" ] || return 0
  cleanup_bench "$SH"
  local kids p; kids=$(children "$SHOAL_PID")
  if [ -n "${1:-}" ]; then # peak RSS (VmHWM) of the daemon and each child (etcd), read just before stopping
    { echo "{\"n\":$1,\"runs\":\"${2:-all}\",\"daemon_hwm_kb\":$(status_kb "$SHOAL_PID" VmHWM null),\"children\":["
      local sep=""; for p in $kids; do
        echo "$sep{\"comm\":\"$(cat /proc/"$p"/comm 2>/dev/null)\",\"hwm_kb\":$(status_kb "$p" VmHWM null)}"; sep=","
      done
      echo "],\"sampled_max_sum_rss_kb\":$(cat "$WORK/rss-sum" 2>/dev/null || echo null)}"; } | tr -d '\n' >>"$WORK/rss.jsonl"
    echo >>"$WORK/rss.jsonl"
  fi
  log "shoal: stopping daemon $SHOAL_PID"
  kill -TERM "$SHOAL_PID" 2>/dev/null
  local i; for i in $(seq 150); do kill -0 "$SHOAL_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$SHOAL_PID" 2>/dev/null && { log "shoal: daemon did not stop in 30 s, SIGKILL"; kill -KILL "$SHOAL_PID"; }
  for p in $kids; do kill -0 "$p" 2>/dev/null && { log "shoal: child $p ($(cat /proc/"$p"/comm 2>/dev/null)) still alive, SIGKILL"; kill -KILL "$p"; }; done
  wait "$SHOAL_PID" 2>/dev/null; [ -n "$SAMPLER_PID" ] && wait "$SAMPLER_PID" 2>/dev/null
  SHOAL_PID=""; SAMPLER_PID=""
  rm -rf "$SHOAL_DIR"; SHOAL_DIR=""
  cleanup_bench "$REAL"
}

on_exit() { shoal_down; swarm_down; }
trap on_exit EXIT
trap 'log interrupted; exit 130' INT TERM

# Slowest successful Swarm rolling_update at N, in s (empty if none).
swarm_update_max_s() {
  jq -s --argjson n "$1" '[.[] | select(.system=="swarm" and .n_replicas==$n and .step=="rolling_update"
    and .ok != false) | .ms] | if length==0 then empty else (max/1000|ceil) end' "$RAW"
}
series() { # system docker-host n [first-run last-run]
  local ut=${UPDATE_TIMEOUT:-}
  if [ -z "$ut" ]; then
    ut=600
    if [ "$1" = shoal ]; then local m; m=$(swarm_update_max_s "$3"); [ -n "$m" ] && ut=$((m * 3 > 60 ? m * 3 : 60)); fi
  fi
  local r
  for r in $(seq "${4:-1}" "${5:-$REPS}"); do
    log "$1 N=$3 rep $r/$REPS (update timeout ${ut}s)"
    local t0=$SECONDS lines load; load=$(cut -d' ' -f1 /proc/loadavg)
    lines=$(cd "$WORK" && DOCKER_HOST=$2 WAIT_TIMEOUT=$WAIT_TIMEOUT UPDATE_TIMEOUT=$ut \
      timeout $((WAIT_TIMEOUT * 4 + ut + 300)) bash "$HERE/lifecycle.sh" "$3" "$IMG"); local rc=$?
    echo "$lines" | grep '^{' | jq -c --arg sys "$1" --argjson n "$3" --argjson rep "$r" --argjson rc "$rc" \
      --argjson ut "$ut" --argjson load "$load" \
      '{system:$sys, n_replicas:$n, rep:$rep, script_rc:$rc, update_timeout_s:$ut, loadavg1_before:$load} + .' >>"$RAW"
    log "  -> rc=$rc in $((SECONDS - t0))s: $(echo "$lines" | jq -rc '"\(.step)=\(.ms // "-")\(if .ok==false then "(FAILED)" else "" end)"' 2>/dev/null | tr '\n' ' ')"
    cleanup_bench "$2"
  done
}

# dockerd alone doing the scenario's container work (bench/dockerd-floor.ts), neither system running.
series_floor() { # n first-run last-run
  local r
  for r in $(seq "$2" "$3"); do
    log "floor N=$1 rep $r/$REPS"
    local lines rc load; load=$(cut -d' ' -f1 /proc/loadavg)
    lines=$(timeout 600 node --import tsx "$HERE/dockerd-floor.ts" --n "$1" --image "$IMG"); rc=$?
    echo "$lines" | grep '^{' | jq -c --argjson n "$1" --argjson rep "$r" --argjson rc "$rc" --argjson load "$load" \
      '{system:"floor", n_replicas:$n, rep:$rep, script_rc:$rc, loadavg1_before:$load} + .' >>"$RAW"
    log "  -> rc=$rc: $(echo "$lines" | jq -rc '"\(.step)=\(.ms)"' 2>/dev/null | tr '\n' ' ')"
  done
}

# --- preflight
if [ "$SHOAL_SOURCE" = head ]; then
  SHOAL_TREE=$WORK/shoal-head; SHOAL_COMMIT=$(git -C "$REPO" rev-parse HEAD); mkdir -p "$SHOAL_TREE"
  git -C "$REPO" archive "$SHOAL_COMMIT" | tar -x -C "$SHOAL_TREE" && ln -s "$REPO/node_modules" "$SHOAL_TREE/node_modules"
else
  SHOAL_TREE=$REPO; SHOAL_COMMIT=$(git -C "$REPO" rev-parse HEAD)
fi
bash "$REPO/scripts/start-dockerd.sh" || exit 1
real image inspect "$IMG" >/dev/null 2>&1 || DOCKER_HOST=$REAL bash "$REPO/scripts/make-test-image.sh" "$IMG" >/dev/null
[ "$(swarm_state)" = inactive ] || { log "the real dockerd is already in swarm mode ($(swarm_state)): not touching it"; exit 1; }
[ -z "$(bench_containers)" ] || { log "bench containers exist already: $(echo $(bench_containers))"; exit 1; }
cat >"$WORK/meta.json" <<META
{"stamp":"$STAMP","started_utc":"$(date -u +%FT%TZ)","ns":"$NS","reps":$REPS,"systems":"$SYSTEMS","order":"$ORDER",
 "wait_timeout_s":$WAIT_TIMEOUT,"update_timeout_s":"${UPDATE_TIMEOUT:-auto}","image":"$IMG",
 "nproc":$(nproc),"mem_total_kb":$(awk '/MemTotal/ {print $2}' /proc/meminfo),"kernel":"$(uname -r)",
 "os":"$(. /etc/os-release && echo "$PRETTY_NAME")",
 "cpu":"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)",
 "docker_server":"$(real version --format '{{.Server.Version}}')","docker_client":"$(docker version --format '{{.Client.Version}}' 2>/dev/null)",
 "etcd":"$(etcd --version 2>/dev/null | awk '/etcd Version/ {print $3}')","node":"$(node --version)",
 "shoal_commit":"${SHOAL_COMMIT:0:12}","shoal_commit_subject":$(git -C "$REPO" log -1 --format=%s "$SHOAL_COMMIT" | jq -R .),
 "shoal_source":"$SHOAL_SOURCE","shoal_worktree_dirty_outside_bench":$([ -n "$(git -C "$REPO" status --porcelain -- . ':!bench')" ] && echo true || echo false),
 "loadavg_start":"$(cut -d' ' -f1-3 /proc/loadavg)","other_containers_running_at_start":$(real ps -q | wc -l)}
META
T_START=$SECONDS
run_system() { # system n [first-run last-run]
  case $1 in
    swarm) if swarm_up; then series swarm "$REAL" "$2" "${3:-}" "${4:-}"; else log "swarm init failed"; fi; swarm_down ;;
    shoal) if shoal_up "$2" "${3:-}"; then series shoal "$SH" "$2" "${3:-}" "${4:-}"; else log "shoal did not start; see the daemon log in $WORK"; fi
           shoal_down "$2" "${3:-all}" ;;
    floor) series_floor "$2" "${3:-1}" "${4:-$REPS}" ;;
    *) log "unknown system $1" ;;
  esac
}
for n in $NS; do
  if [ "$ORDER" = rep ]; then
    for r in $(seq "$REPS"); do for sys in $SYSTEMS; do run_system "$sys" "$n" "$r" "$r"; done; done
  else
    for sys in $SYSTEMS; do run_system "$sys" "$n"; done
  fi
done
jq -c ". + {finished_utc:\"$(date -u +%FT%TZ)\", wall_s:$((SECONDS - T_START)), loadavg_end:\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" \
  "$WORK/meta.json" >"$WORK/meta2.json"
node --import tsx "$HERE/report.ts" "$WORK/meta2.json" "$RAW" "$WORK/rss.jsonl" "$OUT/lifecycle-$STAMP"
# The repository's lint checks bench/ (results included) with biome's formatter.
"$REPO/node_modules/.bin/biome" format --write "$OUT/lifecycle-$STAMP.json" "$OUT/lifecycle-$STAMP.md" >/dev/null
log "wrote $OUT/lifecycle-$STAMP.json and .md in $((SECONDS - T_START))s; daemon logs in $WORK"
