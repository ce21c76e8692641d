// Turns the raw series of bench/lifecycle-compare.sh into bench/results/lifecycle-<stamp>.{json,md}.
// usage: node --import tsx bench/report.ts META.json RAW.jsonl RSS.jsonl OUT_PREFIX
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** One line printed by bench/lifecycle.sh, tagged by the runner with the system, N and repetition. */
interface RawLine {
  system: string;
  n_replicas: number;
  rep: number;
  script_rc: number;
  step: string;
  ms?: number;
  ok?: boolean;
  rc?: number;
  updated?: number;
  want?: number;
  error?: string;
  loadavg1_before?: number;
}

interface Stat {
  runs: number;
  ok: number;
  median: number | null;
  min: number | null;
  max: number | null;
  values: number[];
}

const STEPS = ["converge", "scale_up", "heal_after_kill", "rolling_update", "remove"] as const;
/** Steps with the goal: shoal's median at most half of Swarm's. */
const GOAL_STEPS = new Set<string>(["converge", "scale_up", "heal_after_kill"]);
const GOAL_RATIO = 0.5;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A step counts only when it printed a time and was not marked failed; runs = repetitions attempted. */
function stat(lines: RawLine[], system: string, n: number, step: string): Stat {
  const reps = new Set(lines.filter((l) => l.system === system && l.n_replicas === n).map((l) => l.rep));
  const values = lines
    .filter((l) => l.system === system && l.n_replicas === n && l.step === step)
    .filter((l) => l.ok !== false && typeof l.ms === "number")
    .map((l) => l.ms!);
  return {
    runs: reps.size,
    ok: values.length,
    median: median(values),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
    values,
  };
}

function ratio(shoal: Stat, swarm: Stat): number | null {
  return shoal.median !== null && swarm.median ? shoal.median / swarm.median : null;
}

function fmtS(ms: number | null): string {
  return ms === null ? "—" : `${(ms / 1000).toFixed(2)} s`;
}

function cell(s: Stat): string {
  if (s.runs === 0) return "not run";
  if (s.ok === 0) return `**failed** (0/${s.runs} ok)`;
  const range = s.ok > 1 ? ` (${fmtS(s.min)}–${fmtS(s.max)})` : "";
  const fails = s.ok < s.runs ? `, **${s.runs - s.ok}/${s.runs} failed**` : "";
  return `${fmtS(s.median)}${range}${fails}`;
}

function goal(step: string, r: number | null, floorRatio: number | null): string {
  if (!GOAL_STEPS.has(step)) return "";
  if (r === null) return "no data";
  if (r <= GOAL_RATIO) return "met";
  return floorRatio !== null && floorRatio > GOAL_RATIO ? "not met (below the floor)" : "not met";
}

function floorCell(s: Stat): string {
  // the floor is measured only for the steps with the goal
  return s.ok === 0 ? "—" : cell(s);
}

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as T);
}

function nsOf(lines: RawLine[]): number[] {
  return [...new Set(lines.map((l) => l.n_replicas))].sort((a, b) => a - b);
}

function summary(lines: RawLine[]) {
  return nsOf(lines).map((n) => ({
    n,
    steps: STEPS.map((step) => {
      const swarm = stat(lines, "swarm", n, step);
      const shoal = stat(lines, "shoal", n, step);
      const floor = stat(lines, "floor", n, step);
      return {
        step,
        swarm,
        shoal,
        floor,
        ratio_shoal_over_swarm: ratio(shoal, swarm),
        ratio_floor_over_swarm: ratio(floor, swarm),
      };
    }),
  }));
}

function updateChecks(lines: RawLine[], n: number): string {
  return ["swarm", "shoal"]
    .map((sys) => {
      const c = lines.filter(
        (l) => l.system === sys && l.n_replicas === n && l.step === "rolling_update_check",
      );
      const u = lines.filter((l) => l.system === sys && l.n_replicas === n && l.step === "rolling_update");
      if (!c.length) return "";
      const parts = c.map((l) => {
        const up = u.find((x) => x.rep === l.rep);
        const how = up?.ok === false ? (up.rc === 124 ? "timed out" : `failed rc=${up.rc}`) : "returned";
        return `rep ${l.rep}: update ${how}, ${l.updated}/${l.want} running containers with X=1`;
      });
      return `- ${sys}: ${parts.join("; ")}`;
    })
    .filter(Boolean)
    .join("\n");
}

/** Every step a run could not complete, with what the scenario printed about it. */
function failures(lines: RawLine[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (l.step === "timeout") {
      out.push(`- ${l.system} N=${l.n_replicas} run ${l.rep}: a wait timed out (wanted ${l.want} tasks)`);
    } else if (l.ok === false) {
      const why = l.error ?? (l.rc === 124 ? "timed out" : `exit code ${l.rc}`);
      out.push(`- ${l.system} N=${l.n_replicas} run ${l.rep}: ${l.step} failed: ${why}`);
    }
  }
  return out;
}

function loads(lines: RawLine[], n: number): string {
  return ["swarm", "shoal", "floor"]
    .map((sys) => {
      const firsts = lines.filter((l) => l.system === sys && l.n_replicas === n && l.step === "converge");
      return firsts.length ? `${sys} ${firsts.map((l) => l.loadavg1_before ?? "?").join(", ")}` : "";
    })
    .filter(Boolean)
    .join("; ");
}

interface RssLine {
  n: number;
  runs?: string;
  daemon_hwm_kb: number | null;
  children: { comm: string; hwm_kb: number | null }[];
  sampled_max_sum_rss_kb: number | null;
}

function mib(kb: number | null): string {
  return kb === null ? "—" : `${(kb / 1024).toFixed(0)} MiB`;
}

function markdown(meta: Record<string, unknown>, lines: RawLine[], rss: RssLine[]): string {
  const out: string[] = [];
  out.push(`# Service lifecycle: shoal vs Docker Swarm (${meta.stamp})`, "");
  out.push(
    "Scenario: `bench/lifecycle.sh` (copy of `../shared/bench/lifecycle.sh`), timed from the docker CLI. " +
      `Each cell: median of ${meta.reps} run(s) (min–max). Ratio = shoal median / Swarm median; ` +
      `goal for converge, scale and heal: ratio ≤ ${GOAL_RATIO}. A failed step is never given a time.`,
    "",
    "dockerd floor (`bench/dockerd-floor.ts`, measured on the same dockerd with neither system running): " +
      "the step's container work done by calling dockerd directly with no orchestrator, plus what the " +
      "scenario itself adds (one CLI poll; for heal the kill CLI and the fixed 0.3 s sleep). No orchestrator " +
      'driving this dockerd can be faster; where floor/Swarm > 0.5 the goal is "below the floor".',
    "",
  );
  for (const { n, steps } of summary(lines)) {
    out.push(`## N = ${n} (scaled to ${2 * n})`, "");
    out.push(
      "| step | Docker Swarm | shoal | dockerd floor | shoal/Swarm | floor/Swarm | goal ≤ 0.5 |",
      "|---|---|---|---|---|---|---|",
    );
    const fmtR = (r: number | null) => (r === null ? "—" : r.toFixed(2));
    for (const s of steps) {
      const [r, f] = [s.ratio_shoal_over_swarm, s.ratio_floor_over_swarm];
      out.push(
        `| ${s.step} | ${cell(s.swarm)} | ${cell(s.shoal)} | ${floorCell(s.floor)} | ${fmtR(r)} | ${fmtR(f)} | ${goal(s.step, r, f)} |`,
      );
    }
    out.push("", "Rolling update check (untimed, after the step):", updateChecks(lines, n), "");
    out.push(`1-minute load average before each run (2 cores): ${loads(lines, n)}.`, "");
  }
  const failed = failures(lines);
  if (failed.length > 0) out.push("## Failed steps", "", ...failed, "");
  out.push(
    "## shoal daemon memory",
    "",
    "| N | runs | daemon VmHWM | children VmHWM | max sampled sum of VmRSS |",
  );
  out.push("|---|---|---|---|---|");
  for (const r of rss) {
    const kids = r.children.map((c) => `${c.comm} ${mib(c.hwm_kb)}`).join(", ") || "—";
    out.push(
      `| ${r.n} | ${r.runs ?? "all"} | ${mib(r.daemon_hwm_kb)} | ${kids} | ${mib(r.sampled_max_sum_rss_kb)} |`,
    );
  }
  out.push("", "## Machine and run", "");
  const keys = [
    "started_utc",
    "finished_utc",
    "wall_s",
    "nproc",
    "cpu",
    "mem_total_kb",
    "kernel",
    "os",
    "docker_server",
    "docker_client",
    "etcd",
    "node",
    "shoal_commit",
    "shoal_commit_subject",
    "shoal_source",
    "shoal_worktree_dirty_outside_bench",
    "reps",
    "order",
    "wait_timeout_s",
    "update_timeout_s",
    "loadavg_start",
    "loadavg_end",
    "other_containers_running_at_start",
  ];
  for (const k of keys) out.push(`- ${k}: ${String(meta[k])}`);
  out.push("", "Raw series: the `.json` file next to this one (`runs`: one object per step and run).", "");
  return out.join("\n");
}

function main(argv: string[]): void {
  const [metaPath, rawPath, rssPath, prefix] = argv;
  if (!metaPath || !rawPath || !rssPath || !prefix) {
    throw new Error("usage: report.ts META.json RAW.jsonl RSS.jsonl OUT_PREFIX");
  }
  const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>;
  const lines = readJsonl<RawLine>(rawPath);
  const rss = readJsonl<RssLine>(rssPath);
  const json = { meta, summary: summary(lines), shoal_rss: rss, runs: lines };
  writeFileSync(`${prefix}.json`, `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(`${prefix}.md`, markdown(meta, lines, rss));
}

main(process.argv.slice(2));
