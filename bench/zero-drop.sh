#!/bin/bash
# Failed requests and latency while tasks go away: a 4-replica httpd service on an attachable overlay
# network and a client container on it sending bounded load (bench/zero-drop-load.ts, run in the
# client's network namespace) during `service update --force` (stop-first), the same with
# `--update-order start-first`, and `service scale` 4 → 2. Writes bench/results/zero-drop-<stamp>.{json,md}.
#
# usage: bash bench/zero-drop.sh          (as root; see bench/README.md)
# env:   SYSTEMS="shoal shoal-nodrain swarm"   shoal-nodrain: shoal with io.shoal.drain-period=0s
#        SHOAL_SOURCE=head (a clean git archive of HEAD) | worktree      STAMP (default UTC date-time)
#        FAST=6 SLOW=2 PAUSE_MS=25   load: workers on a static file / on a 1 s CGI, pause of fast workers
# Paths: shoal's VIP from the client container, and (MESH=1, the default) at the same time the
# routing mesh: the service publishes a port and a second, smaller load (3 fast, 1 slow) goes to
# 127.0.0.1:PORT from the host. Swarm: its VIPs and routing mesh need IPVS, which this kernel lacks,
# so its service uses `--endpoint-mode dnsrr` and the client resolves the name through Docker's
# embedded DNS on every request (Swarm removes a going task from DNS as from IPVS, then waits 2 s).
# One system at a time on the local dockerd; the machine is left as found (not in swarm mode, no
# shoal daemon, no container of the bench). Traffic stays in the containers and bridges of this host.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
SYSTEMS=${SYSTEMS:-shoal shoal-nodrain swarm}; SHOAL_SOURCE=${SHOAL_SOURCE:-head}
STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%MZ)}; FAST=${FAST:-6}; SLOW=${SLOW:-2}; PAUSE_MS=${PAUSE_MS:-25}; MESH=${MESH:-1}
IMG=busybox:local; REAL=unix:///var/run/docker.sock; SUBNET=10.213.61.0/24
# shoal's ingress network: a pool of its own, so no other cluster's ingress on this dockerd overlaps it
INGRESS_POOL=10.213.62.0/24; MESH_PORT=""
WEB=zdweb$$; CLI=zdclient$$; NET=zdnet$$
OUT=$HERE/results; WORK=$(mktemp -d /tmp/shoal-zero-drop.XXXXXX); RAW=$WORK/raw.jsonl
SHOAL_PID=""; SHOAL_DIR=""; SHOAL_NODE=""; SWARM_BY_US=0; DH=""
mkdir -p "$OUT"; : >"$RAW"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
real() { timeout 60 docker -H "$REAL" "$@"; }
dk() { timeout "${T:-120}" docker -H "$DH" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
running() { dk service ps "$WEB" --filter desired-state=running --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running'; }
wait_for() { # what seconds command...
  local what=$1 end=$((SECONDS + $2)); shift 2
  until "$@"; do [ $SECONDS -gt $end ] && { log "timed out waiting for $what"; return 1; }; sleep 0.5; done
}
web_running() { [ "$(running)" -eq "$1" ]; }
bench_containers() { real ps -aq --filter "label=com.docker.swarm.service.name=$WEB" --filter "label=com.docker.swarm.service.name=$CLI"; }
no_containers() { [ -z "$(real ps -aq --filter "label=com.docker.swarm.service.name=$WEB")$(real ps -aq --filter "label=com.docker.swarm.service.name=$CLI")" ]; }

# The backend: exits at once on SIGTERM (its httpd dies with it, cutting requests in flight), serves
# a static file and a 1 s CGI, and listens 2 s after it starts (the healthcheck gates it).
BACKEND="mkdir -p /www/cgi-bin && echo ok > /www/index.html; \
printf '#!/bin/sh\nsleep 1\necho \"Content-Type: text/plain\"\necho\necho slow\n' > /www/cgi-bin/slow; \
chmod +x /www/cgi-bin/slow; trap 'exit 0' TERM; sleep 2; httpd -f -p 80 -h /www & wait"

shoal_up() {
  SHOAL_DIR=$(mktemp -d /tmp/shoal-zd-data.XXXXXX); local port; port=$(free_port)
  log "shoal: daemon (data dir $SHOAL_DIR, log $WORK/shoal.log)"
  setsid "$SHOAL_TREE/bin/shoal" daemon --data-dir "$SHOAL_DIR" --engine-socket "$SHOAL_DIR/docker.sock" \
    --listen-addr "127.0.0.1:$port" --log-level info >>"$WORK/shoal.log" 2>&1 &
  SHOAL_PID=$!
  local i; for i in $(seq 150); do [ -S "$SHOAL_DIR/docker.sock" ] && break; sleep 0.2; done
  DH="unix://$SHOAL_DIR/docker.sock"
  dk swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port" \
    --default-addr-pool "$INGRESS_POOL" >/dev/null || return 1
  SHOAL_NODE=$(dk info --format '{{.Swarm.NodeID}}')
}
shoal_down() {
  [ -n "$SHOAL_PID" ] || return 0
  teardown_services
  log "shoal: stopping daemon $SHOAL_PID"
  kill -TERM "$SHOAL_PID" 2>/dev/null
  local i; for i in $(seq 150); do kill -0 "$SHOAL_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$SHOAL_PID" 2>/dev/null && kill -KILL "$SHOAL_PID"
  wait "$SHOAL_PID" 2>/dev/null; SHOAL_PID=""
  rm -rf "$SHOAL_DIR"; SHOAL_DIR=""
  leftovers
  # the local bridges of the swarm network: the daemon removes them a moment after the network,
  # which a daemon stopped at once may not have done
  local n; n=$(real network ls -q --filter "label=io.shoal.node.id=$SHOAL_NODE")
  [ -n "$SHOAL_NODE" ] && [ -n "$n" ] && real network rm $n >/dev/null
  SHOAL_NODE=""
}
swarm_up() {
  [ "$(real info --format '{{.Swarm.LocalNodeState}}')" = inactive ] || { log "real dockerd already in swarm mode"; return 1; }
  real swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null || return 1
  SWARM_BY_US=1; DH=$REAL
}
swarm_down() {
  [ "$SWARM_BY_US" = 1 ] || return 0
  teardown_services
  real swarm leave --force >/dev/null 2>&1; SWARM_BY_US=0
  leftovers
  # swarm init made it; swarm leave keeps it
  [ "$(real network inspect docker_gwbridge --format '{{len .Containers}}' 2>/dev/null)" = 0 ] &&
    real network rm docker_gwbridge >/dev/null
  true
}
teardown_services() {
  dk service rm "$WEB" "$CLI" >/dev/null 2>&1
  wait_for "bench containers gone" 60 no_containers
  dk network rm "$NET" >/dev/null 2>&1
}
leftovers() { local c; c=$(bench_containers); [ -n "$c" ] && real rm -f $c >/dev/null 2>&1; true; }
on_exit() { shoal_down; swarm_down; }
trap on_exit EXIT
trap 'log interrupted; exit 130' INT TERM

# One measured step: load starts, `docker ARGS` runs (timed), load goes on 6 s (the last drains and
# joins end after the CLI returns), then stops; the loader's summary goes to the raw series.
phase() { # system phase docker-args...
  local sys=$1 name=$2; shift 2
  rm -f "$WORK/stop"
  (cd "$REPO" && nsenter --net="/proc/$CPID/ns/net" node --import tsx "$HERE/zero-drop-load.ts" --name "$WEB" \
    --dns "$DNS" --stop-file "$WORK/stop" --out "$WORK/$sys-$name.json" --fast "$FAST" --slow "$SLOW" \
    --pause-ms "$PAUSE_MS") &
  local lp=$! t0 rc ms load wp="" mp=""; load=$(cut -d' ' -f1 /proc/loadavg)
  if [ -n "$MESH_PORT" ]; then
    (cd "$REPO" && node --import tsx "$HERE/zero-drop-load.ts" --name "$WEB" --addr 127.0.0.1 --port "$MESH_PORT" \
      --stop-file "$WORK/stop" --out "$WORK/$sys-$name-mesh.json" --fast 3 --slow 1 --pause-ms "$PAUSE_MS") &
    mp=$!
  fi
  echo '{"stops":null}' >"$WORK/$sys-$name-watch.json"
  if [ "$sys" != swarm ]; then
    (cd "$REPO" && node --import tsx "$HERE/zero-drop-watch.ts" --pid "$CPID" --service "$WEB" --shoal "$DH" \
      --stop-file "$WORK/stop" --out "$WORK/$sys-$name-watch.json") &
    wp=$!
  fi
  sleep 3
  t0=$(now_ms); T=600 dk "$@" >/dev/null 2>"$WORK/err"; rc=$?; ms=$(($(now_ms) - t0))
  [ $rc -ne 0 ] && log "  $* failed: $(head -c 300 "$WORK/err")"
  sleep 6; touch "$WORK/stop"; wait "$lp"; [ -n "$wp" ] && wait "$wp"; [ -n "$mp" ] && wait "$mp"
  local path=vip; [ "$sys" = swarm ] && path=dnsrr
  row "$sys" "$name" "$path" "$rc" "$ms" "$load" "$WORK/$sys-$name.json" "$WORK/$sys-$name-watch.json"
  if [ -n "$mp" ]; then row "$sys" "$name" mesh "$rc" "$ms" "$load" "$WORK/$sys-$name-mesh.json" /dev/null; fi
}
row() { # system phase path rc ms load loader-json watch-json
  local w=$8; [ -s "$w" ] || { w=$WORK/nostops.json; echo '{"stops":null}' >"$w"; }
  jq -c --arg sys "$1" --arg phase "$2" --arg path "$3" --argjson rc "$4" --argjson ms "$5" --argjson load "$6" \
    --slurpfile w "$w" \
    '{system:$sys, phase:$phase, path:$path, action_rc:$rc, action_ms:$ms, loadavg1_before:$load} + . + {stops:$w[0].stops}' \
    "$7" >>"$RAW" || { log "  no result from the $3 loader for $2"; return; }
  log "  $1 $2 ($3): $(tail -1 "$RAW" | jq -r '"\(.sent) requests, \(.failed) failed, fast p99 \(.latency_ms.fast.p99) ms, action \(.action_ms) ms"')"
}

series() { # system
  local sys=$1 extra=()
  [ "$sys" = swarm ] && extra=(--endpoint-mode dnsrr)
  [ "$sys" = shoal-nodrain ] && extra=(--label io.shoal.drain-period=0s)
  MESH_PORT=""
  if [ "$sys" != swarm ] && [ "$MESH" = 1 ]; then MESH_PORT=$(free_port); extra+=(--publish "$MESH_PORT:80"); fi
  dk network create -d overlay --attachable --subnet "$SUBNET" "$NET" >/dev/null || return 1
  dk service create -d -q --name "$WEB" --network "$NET" --replicas 4 "${extra[@]}" \
    --health-cmd 'timeout 2 wget -qO- http://127.0.0.1/ >/dev/null' --health-interval 500ms --health-retries 10 \
    --update-parallelism 1 "$IMG" sh -c "$BACKEND" >/dev/null 2>&1 || return 1
  dk service create -d -q --name "$CLI" --network "$NET" "$IMG" sleep 1d >/dev/null 2>&1 || return 1
  wait_for "4 web tasks" 120 web_running 4 || return 1
  wait_for "the client" 60 sh -c "[ -n \"\$(docker -H $REAL ps -q --filter label=com.docker.swarm.service.name=$CLI)\" ]" || return 1
  local c; c=$(real ps -q --filter "label=com.docker.swarm.service.name=$CLI" | head -1)
  CPID=$(real inspect -f '{{.State.Pid}}' "$c")
  if [ "$sys" = swarm ]; then DNS=127.0.0.11; else DNS=$(real exec "$c" awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf); fi
  wait_for "the service answering" 60 real exec "$c" sh -c "timeout 3 wget -qO- http://$WEB/ >/dev/null" || return 1
  [ -z "$MESH_PORT" ] || wait_for "the mesh answering" 60 curl -sf -m 3 -o /dev/null "http://127.0.0.1:$MESH_PORT/" || return 1
  phase "$sys" stop-first service update --force "$WEB"
  phase "$sys" start-first service update --force --update-order start-first "$WEB"
  phase "$sys" scale-down service scale "$WEB=2"
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
cat >"$WORK/meta.json" <<META
{"stamp":"$STAMP","started_utc":"$(date -u +%FT%TZ)","systems":"$SYSTEMS","fast_workers":$FAST,"slow_workers":$SLOW,
 "pause_ms":$PAUSE_MS,"nproc":$(nproc),"kernel":"$(uname -r)","docker_server":"$(real version --format '{{.Server.Version}}')",
 "shoal_commit":"${SHOAL_COMMIT:0:12}","shoal_source":"$SHOAL_SOURCE","loadavg_start":"$(cut -d' ' -f1-3 /proc/loadavg)"}
META
for sys in $SYSTEMS; do
  log "== $sys"
  case $sys in
    swarm) if swarm_up; then series swarm || log "swarm series failed"; fi; swarm_down ;;
    shoal | shoal-nodrain)
      if shoal_up; then series "$sys" || log "$sys series failed"; else log "shoal did not start (log $WORK/shoal.log)"; fi
      shoal_down ;;
    *) log "unknown system $sys" ;;
  esac
done
jq -c ". + {finished_utc:\"$(date -u +%FT%TZ)\", loadavg_end:\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" "$WORK/meta.json" >"$WORK/meta2.json"
node --import tsx "$HERE/zero-drop-report.ts" "$WORK/meta2.json" "$RAW" "$OUT/zero-drop-$STAMP"
"$REPO/node_modules/.bin/biome" format --write "$OUT/zero-drop-$STAMP.json" "$OUT/zero-drop-$STAMP.md" >/dev/null
log "wrote $OUT/zero-drop-$STAMP.json and .md; logs in $WORK"
