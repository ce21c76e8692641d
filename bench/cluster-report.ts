// The report of bench/cluster.ts: bench/results/cluster-<stamp>.{json,md}, with real Docker
// Swarm's figures side by side when their summaries are given (SWARM_SUMMARY, and
// SWARM_SUMMARY_1S for the 1 s heartbeat: files written by ../shared/bench/real-swarm-measure.sh).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { DownRun, FailoverRun, FormRun } from "./cluster.ts";
import { type Stat, stat } from "./cluster-probe.ts";

export interface ClusterReport {
  stamp: string;
  commit: string;
  machine: string;
  formRuns: FormRun[];
  failoverRuns: FailoverRun[];
  downRuns: DownRun[];
}

interface SwarmFigures {
  up: number[];
  /** Per bring-up: dockerds answering, then swarm init, then init → all Ready (joins included). */
  create: number[];
  init: number[];
  ready: number[];
  failoverWrite: number[];
  failoverLeader: number[];
  down: Record<"kill" | "partition", { down: number[]; rescheduled: number[] }>;
}

const nums = (text: string, re: RegExp): number[] =>
  [...text.matchAll(re)].map((m) => Number(m[1])).filter((x) => Number.isFinite(x));

/** Figures from real-swarm-measure.sh's summary.txt (phases a, c, dk, dn). */
export function parseSwarmSummary(path: string | undefined): SwarmFigures | undefined {
  if (!path || !existsSync(path)) return undefined;
  const t = readFileSync(path, "utf8");
  const downOf = (mode: string) => ({
    down: nums(t, new RegExp(`D\\[${mode}\\].*node Down after ([0-9.]+)s`, "g")),
    rescheduled: nums(t, new RegExp(`D\\[${mode}\\].*Running elsewhere after ([0-9.]+)s`, "g")),
  });
  const answering = nums(t, /answering after ([0-9.]+)s/g);
  const initialised = nums(t, /initialised on sw1 after ([0-9.]+)s/g);
  const up = nums(t, /Ready \(3 managers\) after ([0-9.]+)s/g);
  const diff = (a: number[], b: number[]) => a.map((x, i) => Math.round((x - (b[i] ?? 0)) * 100) / 100);
  return {
    up,
    create: answering,
    init: diff(initialised, answering),
    ready: diff(up, initialised),
    failoverWrite: nums(t, /service update OK after ([0-9.]+)s/g),
    failoverLeader: nums(t, /node ls OK with new leader after ([0-9.]+)s/g),
    down: { kill: downOf("kill"), partition: downOf("nft") },
  };
}

const fmt = (s: Stat | undefined): string =>
  !s || s.n === 0 ? "–" : `${s.median} s (${s.min}–${s.max}, n=${s.n})`;
const defined = (xs: Array<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined);

export function writeReport(
  prefix: string,
  r: ClusterReport,
  swarm = parseSwarmSummary(process.env.SWARM_SUMMARY),
  swarm1s = parseSwarmSummary(process.env.SWARM_SUMMARY_1S),
): void {
  writeFileSync(`${prefix}.json`, `${JSON.stringify({ ...r, swarm, swarm1s }, null, 2)}\n`);
  const f = r.failoverRuns;
  const lines = [
    `# Cluster benchmark ${r.stamp}`,
    "",
    `shoal ${r.commit}, bench/cluster.ts; ${r.machine}. Median (min–max, runs). Real Docker Swarm from`,
    "../shared/bench/real-swarm-measure.sh on the same machine (5 nodes in namespaces, 3 managers).",
    "",
    "## Formation: nothing → 5 nodes (3 managers) Ready",
    "",
    "| step | shoal | Swarm |",
    "|---|---|---|",
    `| create: namespaces, containerd + dockerd, image loaded, shoal daemons answering (Swarm: dockerds answering, image loaded later in parallel) | ${fmt(stat(r.formRuns.map((x) => x.create)))} | ${fmt(swarm && stat(swarm.create))} |`,
    `| swarm init | ${fmt(stat(r.formRuns.map((x) => x.init)))} | ${fmt(swarm && stat(swarm.init))} |`,
    `| 4 joins (2 managers one by one, 2 workers at once) return | ${fmt(stat(r.formRuns.map((x) => x.joins)))} | |`,
    `| init → all 5 Ready, 2 managers Reachable (join 5 nodes) | ${fmt(stat(r.formRuns.map((x) => x.ready)))} | ${fmt(swarm && stat(swarm.ready))} |`,
    `| nothing → 5-node cluster | ${fmt(stat(r.formRuns.map((x) => x.total)))} | ${fmt(swarm && stat(swarm.up))} |`,
    "",
    "## Leader failover: kill -9 the leader (its daemon and etcd)",
    "",
    "Probes through a surviving manager every 0.25 s, each bounded by 5 s (as the Swarm script does):",
    "`docker service update -d --label-add` and `docker node ls` showing another Leader. Before each kill",
    "etcd's raft leader is moved to shoal's leader (`etcdctl move-leader`), the worst case and Swarm's",
    "situation (its raft leader is the swarm leader). Goal: first write < 3 s.",
    "",
    "| | shoal | Swarm |",
    "|---|---|---|",
    `| kill → first successful write | ${fmt(stat(defined(f.map((x) => x.write))))} | ${fmt(swarm && stat(swarm.failoverWrite))} |`,
    `| kill → new Leader in node ls | ${fmt(stat(defined(f.map((x) => x.leader))))} | ${fmt(swarm && stat(swarm.failoverLeader))} |`,
    "",
    "| run | killed | via | etcd leader moved | write | leader | load | errors seen before the first success |",
    "|---|---|---|---|---|---|---|---|",
    ...f.map(
      (x, i) =>
        `| ${i + 1} | node${x.killed} | node${x.via} | ${x.etcdMoved ? "yes" : "no (already)"} | ${x.write ?? "–"} | ${x.leader ?? "–"} | ${x.load.toFixed(1)} | ${x.writeErrors || "–"} |`,
    ),
    "",
    "## Node-down detection: a worker (2 of 10 replicas) killed (kill -9 of shoal) or partitioned",
    "",
    "| heartbeat | fault | shoal: Down | shoal: tasks running elsewhere | Swarm: Down | Swarm: rescheduled |",
    "|---|---|---|---|---|---|",
    ...(["5s", "1s"] as const).flatMap((hb) =>
      (["kill", "partition"] as const).map((mode) => {
        const runs = r.downRuns.filter((x) => x.heartbeat === hb && x.mode === mode);
        const sw = (hb === "5s" ? swarm : swarm1s)?.down[mode];
        return `| ${hb} | ${mode} | ${fmt(stat(defined(runs.map((x) => x.down))))} | ${fmt(stat(defined(runs.map((x) => x.rescheduled))))} | ${fmt(sw && stat(sw.down))} | ${fmt(sw && stat(sw.rescheduled))} |`;
      }),
    ),
    "",
  ];
  writeFileSync(`${prefix}.md`, lines.join("\n"));
}

/**
 * Renders the .md again from a run's .json (after a change to this report):
 * node --import tsx bench/cluster-report.ts bench/results/cluster-<stamp>.json
 */
if (process.argv[1] === import.meta.filename && process.argv[2]) {
  const json = process.argv[2];
  const data = JSON.parse(readFileSync(json, "utf8")) as ClusterReport & {
    swarm?: SwarmFigures;
    swarm1s?: SwarmFigures;
  };
  const stamp = json.replace(/\.json$/, "");
  const again = (path: string, figures: SwarmFigures | undefined) =>
    existsSync(path) ? parseSwarmSummary(path) : figures;
  writeReport(
    stamp,
    data,
    again(`${stamp}-swarm-5s.txt`, data.swarm),
    again(`${stamp}-swarm-1s.txt`, data.swarm1s),
  );
}
