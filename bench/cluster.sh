#!/bin/bash
# The cluster benchmark of issue #5, shoal and real Docker Swarm side by side: formation of a
# 5-node cluster (3 managers), leader failover, node-down detection at the 5 s and 1 s heartbeat.
# Swarm first (../shared/bench/real-swarm-measure.sh: phases a, c, dk, dn, then dk and dn again
# after `docker swarm update --dispatcher-heartbeat 1s`), then shoal (bench/cluster.ts from a
# clean `git archive` of HEAD, so the figures belong to the commit in the report). Writes
# bench/results/cluster-<stamp>.{md,json}; see bench/README.md.
#
#   bash bench/cluster.sh
#   SYSTEMS=shoal FAILOVER_RUNS=3 bash bench/cluster.sh
#
# Swarm's summaries are kept as bench/results/cluster-<stamp>-swarm-{5s,1s}.txt; to report shoal
# against an earlier Swarm run: SYSTEMS=shoal SWARM_SUMMARY=<…-5s.txt> SWARM_SUMMARY_1S=<…-1s.txt>.
# Settings (environment): SYSTEMS ("swarm shoal"), FORM_RUNS (3), FAILOVER_RUNS (5), DOWN_RUNS (2:
# per fault and heartbeat; Swarm's script does 3 kills and DOWN_RUNS partitions), SHOAL_SOURCE
# (head | worktree), STAMP. As root, with scripts/setup.sh done; nothing but the cluster namespaces
# is touched, and both clusters are removed at the end.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SYSTEMS=${SYSTEMS:-"swarm shoal"}
SHOAL_SOURCE=${SHOAL_SOURCE:-head}
STAMP=${STAMP:-$(date -u +%Y-%m-%dT%H%MZ)}
export STAMP FORM_RUNS=${FORM_RUNS:-3} FAILOVER_RUNS=${FAILOVER_RUNS:-5} DOWN_RUNS=${DOWN_RUNS:-2}
SHARED=$REPO/../shared/bench
SW=/tmp/swarmnet
WORK=$(mktemp -d /tmp/cluster-bench.XXXXXX)
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
  [ -x "$SW/real-swarm-cluster.sh" ] && "$SW/real-swarm-cluster.sh" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [[ " $SYSTEMS " == *" swarm "* ]]; then
  mkdir -p "$SW"
  cp "$SHARED/real-swarm-cluster.sh" "$SHARED/real-swarm-measure.sh" "$SW/"
  rm -rf "$SW/results"
  M=$SW/real-swarm-measure.sh
  log "Swarm: bring-up x3, failover x3, node down (kill x3, partition x$DOWN_RUNS) at 5 s"
  bash "$M" a && bash "$M" c && bash "$M" dk && bash "$M" dn "$DOWN_RUNS"
  mv "$SW/results/summary.txt" "$REPO/bench/results/cluster-$STAMP-swarm-5s.txt"
  "$SW/real-swarm-cluster.sh" dk 1 swarm update --dispatcher-heartbeat 1s >/dev/null
  sleep 12 # every agent's next heartbeat brings the new period
  log "Swarm: node down at 1 s"
  bash "$M" dk && bash "$M" dn "$DOWN_RUNS"
  mv "$SW/results/summary.txt" "$REPO/bench/results/cluster-$STAMP-swarm-1s.txt"
  cp -r "$SW/results" "$WORK/swarm-results"
  "$SW/real-swarm-cluster.sh" down >/dev/null 2>&1
  export SWARM_SUMMARY=$REPO/bench/results/cluster-$STAMP-swarm-5s.txt
  export SWARM_SUMMARY_1S=$REPO/bench/results/cluster-$STAMP-swarm-1s.txt
fi

if [[ " $SYSTEMS " == *" shoal "* ]]; then
  TREE=$REPO
  if [ "$SHOAL_SOURCE" = head ]; then
    TREE=$WORK/tree
    mkdir -p "$TREE"
    git -C "$REPO" archive HEAD | tar -x -C "$TREE"
    ln -s "$REPO/node_modules" "$TREE/node_modules"
  fi
  log "shoal: $(git -C "$REPO" rev-parse --short HEAD) from $TREE"
  (cd "$TREE" && SHOAL_COMMIT=$(git -C "$REPO" rev-parse --short HEAD) OUT_DIR=$REPO/bench/results node --import tsx bench/cluster.ts 2>"$WORK/shoal.log") ||
    { tail -50 "$WORK/shoal.log" >&2; exit 1; }
  grep -E '^\[[0-9:.]+\] ' "$WORK/shoal.log" >&2 || true
fi
log "done; raw output in $WORK"
