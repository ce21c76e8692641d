// Cluster benchmark (issue #5): time from nothing to a 5-node cluster (3 managers) and to join the
// nodes, leader failover (kill -9 the leader → first successful write through a surviving manager,
// and → a new leader in `docker node ls`), and node-down detection (a worker killed or partitioned
// → `Down`, → its tasks running elsewhere) at the default 5 s heartbeat and at 1 s. Everything is
// timed from the real docker CLI against shoal daemons in a dev cluster (src/devcluster).
// Writes bench/results/cluster-<stamp>.{md,json} (OUT_DIR to change the directory). Normally run
// by bench/cluster.sh, which runs Swarm's side first and shoal from a clean tree of HEAD; alone:
//
//   node --import tsx bench/cluster.ts
//   FORM_RUNS=1 FAILOVER_RUNS=3 DOWN_RUNS=1 node --import tsx bench/cluster.ts
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type ClusterNode, DevCluster } from "../src/devcluster/index.ts";
import { moveEtcdLeader } from "./cluster-etcd.ts";
import {
  failures,
  firstOk,
  leaderIndex,
  nodeTable,
  now,
  ok,
  secs,
  sleep,
  staggered,
  until,
} from "./cluster-probe.ts";
import { writeReport } from "./cluster-report.ts";

const NAME = "bcl";
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const FORM_RUNS = env("FORM_RUNS", 3);
const FAILOVER_RUNS = env("FAILOVER_RUNS", 5);
const DOWN_RUNS = env("DOWN_RUNS", 2);
const STAMP = process.env.STAMP ?? new Date().toISOString().slice(0, 16).replace(/:/g, "");
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 23)}] ${msg}`);

export interface FormRun {
  create: number;
  init: number;
  joins: number;
  ready: number;
  total: number;
  load: number;
}
export interface FailoverRun {
  killed: number;
  via: number;
  etcdMoved: boolean;
  write?: number;
  leader?: number;
  newLeader?: number;
  writeErrors: string;
  load: number;
}
export interface DownRun {
  heartbeat: string;
  mode: "kill" | "partition";
  victim: number;
  tasks: number;
  down?: number;
  rescheduled?: number;
  load: number;
}

/** Nothing → 5 nodes (3 managers) all Ready with both followers Reachable. */
async function form(): Promise<{ cluster: DevCluster; run: FormRun }> {
  const load = loadavg()[0] as number;
  const t0 = now();
  const cluster = await DevCluster.create({ nodes: 5, name: NAME, shoal: true, registry: false });
  const t1 = now();
  const [first, ...rest] = cluster.nodes as [ClusterNode, ...ClusterNode[]];
  await ok(first, ["swarm", "init", "--advertise-addr", first.addr]);
  const t2 = now();
  const token = (role: string) => ok(first, ["swarm", "join-token", "-q", role]);
  const [mt, wt] = [await token("manager"), await token("worker")];
  const join = (n: ClusterNode, t: string) =>
    ok(n, ["swarm", "join", "--token", t, "--advertise-addr", n.addr, `${first.addr}:2377`]);
  for (const n of rest.slice(0, 2)) await join(n, mt);
  await Promise.all(rest.slice(2).map((n) => join(n, wt)));
  const t3 = now();
  const ready = await until(async () => {
    const states = [...(await nodeTable(first)).values()].sort().join(",");
    return states === "Ready,Ready,Ready Leader,Ready Reachable,Ready Reachable" ? true : undefined;
  }, 180_000);
  if (!ready) throw new Error("the 5 nodes were not Ready within 180 s");
  const t4 = now();
  const s = (a: number, b: number) => secs(b - a);
  return {
    cluster,
    run: { create: s(t0, t1), init: s(t1, t2), joins: s(t2, t3), ready: s(t2, t4), total: s(t0, t4), load },
  };
}

const managers = (c: DevCluster) => [1, 2, 3].map((i) => c.node(i));
const prefix = `${NAME}-node`;

/** kill -9 the leader (daemon and etcd); probe writes and node ls through a survivor every 0.25 s. */
async function failoverOnce(cluster: DevCluster, k: number): Promise<FailoverRun> {
  const load = loadavg()[0] as number;
  const killed = (await leaderIndex(cluster.node(1), prefix)) ?? (await leaderIndex(cluster.node(2), prefix));
  if (!killed) throw new Error("no leader");
  const victim = cluster.node(killed);
  // Worst case, as in Swarm where they are one: etcd's raft leader dies with shoal's leader.
  const etcdMoved = await moveEtcdLeader(managers(cluster), victim);
  if (etcdMoved) await sleep(1000);
  const via = cluster.node(killed === 1 ? 2 : 1);
  let n = 0;
  const write = async () => {
    const r = await via.docker(
      ["service", "update", "-d", "--no-resolve-image", "--label-add", `k=${k}.${++n}`, "fo"],
      {
        timeoutMs: 5000,
      },
    );
    return { ok: r.code === 0, out: r.code === 0 ? "" : r.code === 124 ? "timed out (5 s)" : r.stderr };
  };
  const leaderSeen = async () => {
    const l = await leaderIndex(via, prefix).catch(() => undefined);
    return { ok: l !== undefined && l !== killed, out: `leader ${l}` };
  };
  const t0 = now();
  await victim.killShoal("SIGKILL", { children: true });
  const [writes, leaders] = await Promise.all([
    staggered(t0, 250, 60_000, write),
    staggered(t0, 250, 60_000, leaderSeen),
  ]);
  const run: FailoverRun = {
    killed,
    via: via.index,
    etcdMoved,
    write: firstOk(writes),
    leader: firstOk(leaders),
    newLeader: await leaderIndex(via, prefix),
    writeErrors: failures(writes),
    load,
  };
  log(`failover ${k}: ${JSON.stringify(run)}`);
  await victim.restartShoal();
  const back = await until(
    async () => ((await nodeTable(via)).get(`${prefix}${killed}`) === "Ready Reachable" ? true : undefined),
    120_000,
  );
  if (!back) throw new Error(`node ${killed} not Reachable again`);
  await sleep(3000);
  return run;
}

/** Running tasks of the service outside `excluded`, as node 1 lists them. */
async function runningElsewhere(via: ClusterNode, service: string, excluded: string): Promise<number> {
  const out = await ok(
    via,
    [
      "service",
      "ps",
      service,
      "--filter",
      "desired-state=running",
      "--format",
      "{{.Node}} {{.CurrentState}}",
    ],
    10_000,
  );
  return out.split("\n").filter((l) => / Running/.test(l) && !l.startsWith(`${excluded} `)).length;
}

/** A worker dies (kill -9 of its daemon) or is cut off; time until Down and until its tasks run elsewhere. */
async function downOnce(cluster: DevCluster, heartbeat: string, mode: DownRun["mode"], victimIdx: number) {
  const m = cluster.node(1);
  const victim = cluster.node(victimIdx);
  const host = `${prefix}${victimIdx}`;
  await ok(m, ["service", "rm", "dn"]).catch(() => "");
  await ok(m, [
    "service",
    "create",
    "-d",
    "--no-resolve-image",
    "--name",
    "dn",
    "--replicas",
    "10",
    // As the Swarm script does: the replacement of a task on a down node waits for no restart delay.
    "--restart-delay",
    "0s",
    "busybox:local",
    "sleep",
    "100000",
  ]);
  const converged = await until(
    async () => ((await runningElsewhere(m, "dn", "-")) === 10 ? true : undefined),
    180_000,
  );
  if (!converged) throw new Error("dn did not converge");
  const tasks = 10 - (await runningElsewhere(m, "dn", host));
  const load = loadavg()[0] as number;
  const t0 = now();
  if (mode === "kill") await victim.killShoal("SIGKILL");
  else await cluster.partition(victimIdx);
  let down: number | undefined;
  let rescheduled: number | undefined;
  await until(async () => {
    if (down === undefined && (await nodeTable(m)).get(host)?.startsWith("Down")) down = secs(now() - t0);
    if (rescheduled === undefined && (await runningElsewhere(m, "dn", host)) === 10)
      rescheduled = secs(now() - t0);
    return down !== undefined && rescheduled !== undefined ? true : undefined;
  }, 120_000);
  const run: DownRun = { heartbeat, mode, victim: victimIdx, tasks, down, rescheduled, load };
  log(`down: ${JSON.stringify(run)}`);
  if (mode === "kill") await victim.restartShoal();
  else await cluster.heal(victimIdx);
  await until(async () => ((await nodeTable(m)).get(host)?.startsWith("Ready") ? true : undefined), 120_000);
  return run;
}

async function main(): Promise<void> {
  const formRuns: FormRun[] = [];
  const failoverRuns: FailoverRun[] = [];
  const downRuns: DownRun[] = [];
  const loadStart = loadavg()[0] as number;
  let cluster: DevCluster | undefined;
  try {
    for (let r = 1; r <= Math.max(1, FORM_RUNS); r++) {
      await cluster?.dispose();
      const f = await form();
      cluster = f.cluster;
      if (r <= FORM_RUNS) formRuns.push(f.run);
      log(`formation ${r}: ${JSON.stringify(f.run)}`);
    }
    const c = cluster as DevCluster;
    await ok(c.node(1), [
      "service",
      "create",
      "-d",
      "--no-resolve-image",
      "--name",
      "fo",
      "--replicas",
      "2",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    for (let k = 1; k <= FAILOVER_RUNS; k++) failoverRuns.push(await failoverOnce(c, k));
    for (const heartbeat of ["5s", "1s"]) {
      if (DOWN_RUNS === 0) break;
      await ok(c.node(1), ["swarm", "update", "--dispatcher-heartbeat", heartbeat]);
      await sleep(12_000); // every agent's next heartbeat brings the new period
      for (let r = 0; r < DOWN_RUNS; r++) {
        for (const mode of ["kill", "partition"] as const)
          downRuns.push(await downOnce(c, heartbeat, mode, 4 + (r % 2)));
      }
    }
  } finally {
    await cluster?.dispose();
  }
  const out = join(process.env.OUT_DIR ?? join(import.meta.dirname, "results"), `cluster-${STAMP}`);
  writeReport(out, {
    stamp: STAMP,
    commit:
      process.env.SHOAL_COMMIT ??
      execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}; load ${loadStart.toFixed(1)} at start, ${(loadavg()[0] as number).toFixed(1)} at end`,
    formRuns,
    failoverRuns,
    downRuns,
  });
  log(`wrote ${out}.md`);
}

await main();
