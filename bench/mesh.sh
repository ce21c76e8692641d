#!/bin/bash
# Requests/s and latency through the routing mesh against straight to a task's address, on one node:
# a shoal daemon on the local dockerd, a busybox httpd service published with -p, and a
# client network namespace joined to this host by a veth pair (so its connections arrive from
# outside: prerouting DNAT, forwarding with dockerd's FORWARD policy, the client address kept).
# Scenarios (each DURATION s, CONCURRENCY workers, bench/mesh-load.ts, new connection per request
# and then keep-alive): netns → task IP:80 (direct), netns → host:PORT (mesh), and from this host
# itself 127.0.0.1:PORT (mesh, output DNAT + SNAT) against task IP:80 (direct).
# Writes bench/results/mesh-<stamp>.{jsonl,md}. Swarm is not measured: its mesh needs IPVS, which
# this kernel lacks (bench/zero-drop.sh says the same).
#
# usage: bash bench/mesh.sh     (as root; env: DURATION=10 CONCURRENCY=8 REPLICAS=1 ROUNDS=3 STAMP=<utc date-time>)
# ROUNDS: the scenarios run in turn that many times (a shared machine's load drifts); the report
# gives each scenario's median round, then every row.
# REPLICAS=1 (default): the mesh and the direct path reach the same single httpd, so the rows compare
# the paths, not the number of servers; with 2 the mesh spreads over both (see "per backend").
# Traffic stays on this host: the bridges of the local dockerd and the bench's own namespace.
# The namespace's direct rows connect from a second address (CLIB): the mesh keeps the client
# address, so from one address both paths would reach the same httpd with the same 4-tuples, but
# the client's TCP timestamps (and ISNs) are offset per destination address; a port reused within
# the httpd's TIME_WAIT then fails its PAWS check and the SYN waits out a 1 s retransmission
# (TcpExtPAWSTimewait in the httpd's netns; bench/results/mesh-notes.md, issue #6).
# Each row counts the client namespace's SYN retransmissions and the httpd's PAWS rejects.
# SAME_ADDRESS=1 connects the direct rows from the mesh rows' address (shows the stalls).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10}; CONCURRENCY=${CONCURRENCY:-8}; REPLICAS=${REPLICAS:-1}; ROUNDS=${ROUNDS:-3}; STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%MZ)}
X=$((RANDOM % 250)); POOL=10.217.$X.0/24; HOSTA=10.251.$X.1; CLIA=10.251.$X.2; CLIB=10.251.$X.3
DIRECT_FROM=$CLIB; [ "${SAME_ADDRESS:-0}" = 1 ] && DIRECT_FROM=$CLIA
NS=shoalmesh$$; VETH=smb$$; SVC=meshbench$$; REAL=unix:///var/run/docker.sock
OUT=$HERE/results; WORK=$(mktemp -d /tmp/shoal-mesh-bench.XXXXXX); RAW=$OUT/mesh-$STAMP.jsonl
SHOAL_PID=""; DH=""; DIRECT_RULES=0
mkdir -p "$OUT"; : >"$RAW"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
dk() { timeout 120 docker -H "$DH" "$@"; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
direct_rules() { # $1: -I or -D; the direct path from the namespace is no published port: let it through
  # (in FORWARD, not DOCKER-USER, whose jump dockerd moves on every network create: see mesh.ts)
  local at=(); [ "$1" = -I ] && at=(1)
  iptables -w 5 "$1" FORWARD "${at[@]}" -i "$VETH" -j ACCEPT && iptables -w 5 "$1" FORWARD "${at[@]}" -o "$VETH" -j ACCEPT
}

cleanup() {
  set +e
  [ "$DIRECT_RULES" = 1 ] && direct_rules -D
  if [ -n "$DH" ]; then dk service rm "$SVC" >/dev/null 2>&1; dk swarm leave --force >/dev/null 2>&1; fi
  if [ -n "$SHOAL_PID" ]; then kill "$SHOAL_PID" 2>/dev/null; for _ in $(seq 30); do kill -0 "$SHOAL_PID" 2>/dev/null || break; sleep 1; done; kill -9 "$SHOAL_PID" 2>/dev/null; fi
  local left; left=$(docker -H "$REAL" ps -aq --filter "label=com.docker.swarm.service.name=$SVC")
  [ -n "$left" ] && docker -H "$REAL" rm -f $left >/dev/null
  ip netns del "$NS" 2>/dev/null; ip link del "$VETH" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

bash "$REPO/scripts/start-dockerd.sh" >/dev/null || { log "dockerd is not running"; exit 1; }
PORT=$(free_port); CPORT=$(free_port); DATA=$WORK/data; DH=unix://$WORK/docker.sock
log "shoal daemon (log $WORK/shoal.log), service $SVC on port $PORT, ingress pool $POOL"
setsid "$REPO/bin/shoal" daemon --data-dir "$DATA" --engine-socket "$WORK/docker.sock" \
  --listen-addr "127.0.0.1:$CPORT" --log-level info >>"$WORK/shoal.log" 2>&1 &
SHOAL_PID=$!
for _ in $(seq 60); do dk version >/dev/null 2>&1 && break; sleep 1; done
dk swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$CPORT" --default-addr-pool "$POOL" >/dev/null || exit 1
dk service create -d --name "$SVC" --replicas "$REPLICAS" -p "$PORT:80" busybox:local \
  sh -c 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www' >/dev/null 2>&1 || exit 1
answers() { for _ in $(seq 10); do curl -s -m 2 "http://127.0.0.1:$PORT/"; done | sort -u | wc -l; }
for _ in $(seq 120); do [ "$(answers)" -ge "$REPLICAS" ] && break; sleep 1; done
[ "$(answers)" -ge "$REPLICAS" ] || { log "the mesh never answered from $REPLICAS replica(s)"; tail -20 "$WORK/shoal.log"; exit 1; }
CID=$(docker -H "$REAL" ps -q --filter "label=com.docker.swarm.service.name=$SVC" | head -1)
TASK_IP=$(docker -H "$REAL" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$CID" | awk '{print $1}')
log "task address $TASK_IP"
HTTPD_PID=$(docker -H "$REAL" inspect -f '{{.State.Pid}}' "$CID")
tcp_ext() { # counter, then a command printing /proc/net/netstat of some netns
  local name=$1; shift
  "$@" cat /proc/net/netstat | awk -v k="$name" '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else print $c[k] }'
}

ip netns add "$NS" && ip link add "$VETH" type veth peer name eth0 netns "$NS" || exit 1
ip addr add "$HOSTA/29" dev "$VETH" && ip link set "$VETH" up
ip -n "$NS" addr add "$CLIA/29" dev eth0 && ip -n "$NS" addr add "$CLIB/29" dev eth0 && ip -n "$NS" link set eth0 up && ip -n "$NS" link set lo up
ip -n "$NS" route add default via "$HOSTA"

load() { # scenario where mode url [local address]
  local scenario=$1 where=$2 mode=$3 url=$4 extra=()
  [ "$mode" = keepalive ] && extra=(--keepalive)
  [ -n "${5:-}" ] && extra+=(--local-address "$5")
  local cmd=(node --import tsx "$HERE/mesh-load.ts" --url "$url" --seconds "$DURATION" --concurrency "$CONCURRENCY" "${extra[@]}")
  [ "$where" = netns ] && cmd=(ip netns exec "$NS" "${cmd[@]}")
  log "$scenario ($where, $mode): $url"
  local syn0 paws0 syn=null paws
  syn0=$(tcp_ext TCPSynRetrans ip netns exec "$NS"); paws0=$(tcp_ext PAWSTimewait nsenter -t "$HTTPD_PID" -n)
  local r; r=$(cd "$REPO" && "${cmd[@]}") || { log "load generator failed"; return 1; }
  # the namespace is the bench's own, its counters are this row's; the host's are everyone's
  [ "$where" = netns ] && syn=$(($(tcp_ext TCPSynRetrans ip netns exec "$NS") - syn0))
  paws=$(($(tcp_ext PAWSTimewait nsenter -t "$HTTPD_PID" -n) - paws0))
  echo "{\"scenario\":\"$scenario\",\"client\":\"$where\",\"mode\":\"$mode\",\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"synRetrans\":$syn,\"paws\":$paws,\"result\":$r}" >>"$RAW"
}
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  for mode in close keepalive; do
    direct_rules -I && DIRECT_RULES=1
    load direct netns "$mode" "http://$TASK_IP/" "$DIRECT_FROM"
    direct_rules -D && DIRECT_RULES=0
    load mesh netns "$mode" "http://$HOSTA:$PORT/"
    load direct host "$mode" "http://$TASK_IP/"
    load mesh host "$mode" "http://127.0.0.1:$PORT/"
  done
done

MD=$OUT/mesh-$STAMP.md
{
  echo "# Routing mesh vs direct ($STAMP)"
  echo
  echo "shoal $(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet -- src || echo ' (work tree differs)'),"
  echo "$(nproc) CPUs, kernel $(uname -r); ${DURATION} s per row, $CONCURRENCY workers; $REPLICAS busybox httpd replica(s)."
  echo "Client \`netns\`: a namespace behind a veth (arrives from outside: prerouting DNAT, forwarded,"
  echo "client address kept; the direct rows from $([ "$DIRECT_FROM" = "$CLIA" ] && echo 'the same address, SAME_ADDRESS=1' || echo 'a second address of the namespace'));"
  echo "\`host\`: this host (mesh: 127.0.0.1, output DNAT + SNAT). \`close\`: a new"
  echo "connection per request; \`keepalive\`: reused connections. \`SYN rtx\`: the client namespace's SYN"
  echo "retransmissions in the row (a dropped SYN or SYN-ACK; none counted for host clients); \`PAWS\`: SYNs the"
  echo "httpd's TIME_WAIT rejected (TcpExtPAWSTimewait in its netns)."
  echo
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const head = "| path | client | connections | req/s | p50 ms | p99 ms | max ms | errors | SYN rtx | PAWS | per backend | load avg |\n|---|---|---|---:|---:|---:|---:|---|---:|---:|---|---|";
    const line = ({ scenario, client, mode, load, synRetrans, paws, result: r }) => {
      const errs = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "0";
      return `| ${scenario} | ${client} | ${mode} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.max} | ${errs} | ${synRetrans ?? "-"} | ${paws ?? "-"} | ${Object.values(r.backends).join(" / ")} | ${load} |`;
    };
    const groups = new Map();
    for (const r of rows) {
      const k = `${r.mode} ${r.client} ${r.scenario}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    console.log("Median round (by req/s) of each scenario:\n\n" + head);
    for (const g of groups.values()) console.log(line([...g].sort((a, b) => a.result.rps - b.result.rps)[Math.floor(g.length / 2)]));
    console.log("\nEvery round:\n\n" + head);
    for (const r of rows) console.log(line(r));' "$RAW"
} >"$MD"
cat "$MD"
