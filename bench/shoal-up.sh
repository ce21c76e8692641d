#!/bin/bash
# Times `shoal up` (a local cluster in network namespaces, swarm formed, demo stack converged) and
# `shoal down`, REPS times, and writes bench/results/shoal-up-<stamp>.md.
#
#   bash bench/shoal-up.sh                         # 5 nodes, 3 managers, 3 runs
#   NODES=3 MANAGERS=1 REPS=5 bash bench/shoal-up.sh
#
# Settings (environment): NODES (5), MANAGERS (3), REPS (3), DEMO (1; 0: `--no-demo`, the cluster
# and swarm only), TIMEOUT (180: `--timeout`, the bound on the demo's convergence), SHOAL_SOURCE (`head`: a clean
# `git archive` of the committed HEAD, so the figures belong to the commit in the report;
# `worktree`: the work tree as it is), STAMP (result file name; default the UTC date and time).
# As root, with scripts/setup.sh done. Uses the cluster name `bench-up` (removed at the end).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
NODES=${NODES:-5}; MANAGERS=${MANAGERS:-3}; REPS=${REPS:-3}; DEMO=${DEMO:-1}; TIMEOUT=${TIMEOUT:-180}
SHOAL_SOURCE=${SHOAL_SOURCE:-head}; STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%MZ)}
NAME=bench-up
OUT="$REPO/bench/results/shoal-up-n$NODES-m$MANAGERS$([ "$DEMO" = 1 ] || echo -nodemo)-$STAMP.md"
FLAGS=(--name bench-up --nodes "$NODES" --managers "$MANAGERS" --timeout "$TIMEOUT")
[ "$DEMO" = 1 ] || FLAGS+=(--no-demo)
WORK=$(mktemp -d /tmp/shoal-up-bench.XXXXXX)
COMMIT=$(git -C "$REPO" rev-parse --short HEAD)

TREE=$REPO
if [ "$SHOAL_SOURCE" = head ]; then
  TREE=$WORK/tree; mkdir -p "$TREE"
  git -C "$REPO" archive HEAD | tar -x -C "$TREE" && ln -s "$REPO/node_modules" "$TREE/node_modules"
fi
SHOAL=$TREE/bin/shoal
trap '"$SHOAL" down --name "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$SHOAL" down --name "$NAME" >/dev/null

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc | awk '{printf "%.1f", $1}'; }
phase() { grep -o "$1 [0-9.]* s" "$2" | grep -o '[0-9.]* s' | tr -d ' s' || echo "-"; }

rows=()
for r in $(seq "$REPS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now); rc=0
  "$SHOAL" up "${FLAGS[@]}" >"$WORK/up-$r.out" 2>&1 || rc=$?
  t1=$(now)
  t2=$(now); "$SHOAL" up "${FLAGS[@]}" >"$WORK/again-$r.out" 2>&1 || true; t3=$(now)
  t4=$(now); "$SHOAL" down --name "$NAME" >/dev/null; t5=$(now)
  nodes=$(phase "on every node in" "$WORK/up-$r.out"); swarm=$(phase "swarm formed in" "$WORK/up-$r.out")
  result=ok; [ "$rc" = 0 ] || result="failed: $(grep -m1 '^shoal:' "$WORK/up-$r.out" | cut -c1-160)"
  rows+=("| $r | $load | $nodes | $swarm | $(secs "$t0" "$t1") | $(secs "$t2" "$t3") | $(secs "$t4" "$t5") | $result |")
  echo "run $r: up $(secs "$t0" "$t1") s ($result), up again $(secs "$t2" "$t3") s, down $(secs "$t4" "$t5") s" >&2
done

{
  echo "# shoal up: $NODES nodes, $MANAGERS managers$([ "$DEMO" = 1 ] || echo ", no demo stack") ($STAMP)"
  echo
  echo "\`bash bench/shoal-up.sh\` (NODES=$NODES MANAGERS=$MANAGERS REPS=$REPS DEMO=$DEMO TIMEOUT=$TIMEOUT SHOAL_SOURCE=$SHOAL_SOURCE), shoal $COMMIT,"
  echo "$(nproc) cores, $(uname -r). Seconds, wall clock of the whole command (tsx start-up of \`bin/shoal\`"
  echo "included). _nodes_: namespaces, containerd, dockerd, the image and shoal answering on every node;"
  echo "_swarm_: init + joins until every node is Ready; _up_: all of it plus the demo stack"
  echo "(examples/demo-stack.yml) deployed and converged; _again_: \`shoal up\` on the running cluster"
  echo "(health check, redeploy, wait); _down_: \`shoal down\`. _load_: 1-minute load average before the run."
  echo
  echo "| run | load | nodes | swarm | up | again | down | result |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$OUT"
"$REPO/node_modules/.bin/biome" format --write "$OUT" >/dev/null
echo "wrote $OUT" >&2
