/**
 * Issue #5, manager failures under load: three managers and two workers. The leader is killed
 * (kill -9 of its daemon and its etcd) while a client updates a service in a loop through a
 * surviving manager: another manager leads, no acknowledged update is lost, and the service
 * converges. Then a manager is cut off by a partition: its writes, and its reads after a grace,
 * fail with Swarm's lost-quorum error as moby shows it (500, SwarmKit's text through gRPC; not a
 * hang, not a stale answer) while `docker info` still answers and the other two keep accepting
 * writes; once healed it answers again and sees them.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { call, messageOf } from "../../src/engineapi/testing/index.ts";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness, type ClusterNode } from "./harness.ts";
import { leaderOf } from "./leader.ts";
import { disposeAfterTests } from "./per-file.ts";

/** SwarmKit's raft-proxy error as moby passes it on: gRPC code Unknown, HTTP 500. */
const LOST_QUORUM =
  "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

describe("three managers and two workers: leader killed under writes, a partitioned manager", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 5, name: "fo", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 3 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (n: ClusterNode, args: string[]) => {
    const r = await n.docker(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `node ${n.index}: docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const managerStatus = async (n: ClusterNode) =>
    (await ok(n, ["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"]))
      .split("\n")
      .map((l) => l.trim())
      .sort();
  const envOf = async (n: ClusterNode, service: string) =>
    ok(n, ["service", "inspect", service, "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}"]).then(
      (out) => (JSON.parse(out) as string[] | null) ?? [],
    );
  /** The value of `name` in the service's env, as a number (undefined if absent). */
  const envNumber = async (n: ClusterNode, service: string, name: string) => {
    const entry = (await envOf(n, service)).find((e) => e.startsWith(`${name}=`));
    return entry === undefined ? undefined : Number(entry.slice(name.length + 1));
  };
  /** Running tasks of the service and the env each one runs with (from its task spec). */
  const runningTasks = async (n: ClusterNode, service: string) => {
    const ids = (
      await ok(n, [
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}} {{.CurrentState}}",
      ])
    )
      .split("\n")
      .filter((l) => / Running/.test(l))
      .map((l) => l.split(" ")[0] as string);
    if (ids.length === 0) return [];
    const envs = await ok(n, [
      "inspect",
      "--type",
      "task",
      "--format",
      "{{json .Spec.ContainerSpec.Env}}",
      ...ids,
    ]);
    return envs.split("\n").map((e) => (JSON.parse(e) as string[] | null) ?? []);
  };

  let leader = 0;

  test("one Leader and two Reachable managers, two Ready workers", async () => {
    const want = ["Ready Leader", "Ready Reachable", "Ready Reachable", "Ready", "Ready"].sort().join(",");
    await waitFor(
      "1 Leader + 2 Reachable + 2 workers, all Ready",
      async () => {
        const l = (await managerStatus(cluster.node(1))).map((x) => x.replace(/^fo-node\d /, ""));
        if (l.sort().join(",") === want) return true;
        throw new Error(l.join(","));
      },
      60_000,
    );
    leader = (await leaderOf(cluster, cluster.node(1))) ?? 0;
    assert.ok(leader >= 1 && leader <= 3, `leader ${leader}`);
  });

  test("kill -9 the leader during a loop of updates: a new leader, no acknowledged update lost, converged", async () => {
    const killed = leader;
    const via = cluster.node(killed === 2 ? 3 : 2);
    await ok(via, [
      "service",
      "create",
      "-d",
      "--no-resolve-image",
      "--name",
      "loop",
      "--replicas",
      "4",
      "--update-parallelism",
      "4",
      "--update-delay",
      "0s",
      "--stop-grace-period",
      "1s",
      "--env",
      "I=0",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    const acked: number[] = [];
    const failed: string[] = [];
    let killedAt = 0;
    const afterKill = () => acked.filter((_, i) => i >= ackedBeforeKill).length;
    let ackedBeforeKill = Number.POSITIVE_INFINITY;
    // Bounded: at most 60 updates, each with its own deadline; stops 8 acknowledgements after the kill.
    const loop = (async () => {
      for (let n = 1; n <= 60 && afterKill() < 8; n++) {
        const r = await via.docker(
          ["service", "update", "-d", "--no-resolve-image", "--env-add", `I=${n}`, "loop"],
          {
            timeoutMs: 30_000,
          },
        );
        if (r.code === 0) acked.push(n);
        else failed.push(`I=${n}: ${r.stderr.trim()}`);
      }
    })();
    await waitFor("3 acknowledged updates", async () => (acked.length >= 3 ? true : undefined), 60_000);
    ackedBeforeKill = acked.length;
    killedAt = Date.now();
    await cluster.node(killed).killShoal("SIGKILL", { children: true });
    await loop;
    assert.ok(
      afterKill() >= 8,
      `only ${afterKill()} updates acknowledged after the kill; failures: ${failed}`,
    );
    const newLeader = await waitFor(
      "a new leader",
      async () => {
        const l = await leaderOf(cluster, via);
        return l !== undefined && l !== killed ? l : undefined;
      },
      30_000,
    );
    leader = newLeader;
    const last = acked.at(-1) as number;
    // A failed update may still have been applied (its outcome was unknown to the client), so
    // the final value is the last acknowledged one or a later attempt, never an earlier one.
    const final = (await envNumber(via, "loop", "I")) as number;
    assert.ok(final >= last, `final I=${final} but I=${last} was acknowledged (failures: ${failed})`);
    for (const i of [1, 2, 3].filter((x) => x !== killed)) {
      assert.equal(await envNumber(cluster.node(i), "loop", "I"), final, `node ${i}'s view of I`);
    }
    await waitFor(
      `4 running tasks of loop with I=${final}`,
      async () => {
        const envs = await runningTasks(via, "loop");
        return envs.length === 4 && envs.every((e) => e.includes(`I=${final}`)) ? true : undefined;
      },
      120_000,
    );
    console.log(
      `leader ${killed} killed after ${ackedBeforeKill} updates; ${acked.length} acknowledged, ` +
        `${failed.length} failed (${failed.join("; ")}); new leader ${newLeader}; ` +
        `converged ${Math.round((Date.now() - killedAt) / 100) / 10} s after the kill`,
    );
  });

  test("the killed manager restarts and catches up", async () => {
    const killed = [1, 2, 3].find((i) => !cluster.node(i).shoalPid) as number;
    await cluster.node(killed).restartShoal();
    await waitFor(
      `node ${killed} Ready Reachable`,
      async () =>
        (await managerStatus(cluster.node(leader))).includes(`fo-node${killed} Ready Reachable`)
          ? true
          : undefined,
      60_000,
    );
    const want = await envNumber(cluster.node(leader), "loop", "I");
    await waitFor(
      `node ${killed} sees I=${want}`,
      async () => ((await envNumber(cluster.node(killed), "loop", "I")) === want ? true : undefined),
      30_000,
    );
  });

  test("a partitioned manager cannot write or read (Swarm's error, no hang); the other two can; healed, it catches up", async () => {
    const cut = leader;
    const [a, b] = [1, 2, 3].filter((i) => i !== cut).map((i) => cluster.node(i)) as [
      ClusterNode,
      ClusterNode,
    ];
    await cluster.partition(cut);
    const started = Date.now();
    const r = await cluster
      .node(cut)
      .docker(["service", "update", "-d", "--no-resolve-image", "--env-add", "P=cut", "loop"], {
        timeoutMs: 60_000,
      });
    const took = Date.now() - started;
    assert.notEqual(r.code, 0, `a write on the partitioned manager succeeded: ${r.stdout}`);
    assert.equal(r.stderr.trim(), `Error response from daemon: ${LOST_QUORUM}`);
    assert.ok(took < 15_000, `the refused write took ${took} ms`);
    // Reads too, once the member has been leaderless for the grace (5 s): never a stale answer.
    const cutNode = cluster.node(cut);
    await waitFor(
      "node ls refused on the partitioned manager",
      async () => ((await cutNode.docker(["node", "ls", "-q"])).code !== 0 ? true : undefined),
      20_000,
    );
    for (const args of [
      ["node", "ls"],
      ["service", "ls"],
      ["secret", "ls"],
    ]) {
      const read = await cutNode.docker(args, { timeoutMs: 30_000 });
      assert.notEqual(read.code, 0, `docker ${args.join(" ")} answered on the partitioned manager`);
      assert.equal(read.stderr.trim(), `Error response from daemon: ${LOST_QUORUM}`, args.join(" "));
    }
    // The CLI's inspect wraps any daemon error as "Status: <error>, Code: 1"; the API's answer:
    for (const path of ["/v1.41/nodes", "/v1.41/services/loop", "/v1.41/tasks"]) {
      const raw = await call(cutNode.shoalSocket, "GET", path);
      assert.deepEqual([raw.status, messageOf(raw)], [500, LOST_QUORUM], path);
    }
    const readsRefusedAfter = Date.now() - started;
    // `docker info` answers, with the error in its Swarm section (moby's Info).
    const info = await ok(cutNode, [
      "info",
      "--format",
      "{{.Swarm.LocalNodeState}}|{{.Swarm.ControlAvailable}}|{{.Swarm.Error}}",
    ]);
    assert.equal(info, `active|true|${LOST_QUORUM}`);
    const plain = await ok(cutNode, ["info"]);
    assert.ok(plain.includes(`  Error: ${LOST_QUORUM}`), plain);
    // The majority elects a leader among itself and keeps accepting writes.
    await waitFor(
      "a leader among the two connected managers",
      async () => {
        const l = await leaderOf(cluster, a);
        return l !== undefined && l !== cut ? l : undefined;
      },
      30_000,
    );
    await ok(a, ["service", "update", "-d", "--no-resolve-image", "--env-add", "P=1", "loop"]);
    await ok(b, [
      "service",
      "create",
      "-d",
      "--no-resolve-image",
      "--name",
      "during",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    await waitFor(
      `node ${cut} Down or Unreachable on the majority`,
      async () =>
        (await managerStatus(a)).some((l) => new RegExp(`^fo-node${cut} .*Unreachable$`).test(l))
          ? true
          : undefined,
      60_000,
    );
    await cluster.heal(cut);
    const healedAt = Date.now();
    const back = cluster.node(cut);
    await waitFor(
      `node ls and service ls answer on node ${cut} again`,
      async () => {
        const ls = await back.docker(["node", "ls", "-q"]);
        const services = await back.docker(["service", "ls", "-q"]);
        return ls.code === 0 && services.code === 0 ? true : undefined;
      },
      30_000,
    );
    console.log(
      `partitioned manager: write refused after ${took} ms, reads after ${readsRefusedAfter} ms; ` +
        `reads answered again ${Date.now() - healedAt} ms after the heal`,
    );
    await waitFor(
      `node ${cut} sees P=1 and the service made meanwhile`,
      async () => {
        const env = await envOf(back, "loop");
        const during = await back.docker(["service", "inspect", "during", "--format", "{{.Spec.Name}}"]);
        return env.includes("P=1") && during.stdout.trim() === "during" ? true : undefined;
      },
      60_000,
    );
    await ok(back, ["service", "update", "-d", "--no-resolve-image", "--env-add", "P=2", "loop"]);
    await waitFor(
      `node ${cut} Ready Reachable, one leader, and every manager sees P=2`,
      async () => {
        for (const i of [1, 2, 3]) {
          const env = await envOf(cluster.node(i), "loop");
          if (!env.includes("P=2")) throw new Error(`node ${i}: ${env}`);
        }
        const ls = await managerStatus(a);
        if (ls.includes(`fo-node${cut} Ready Reachable`) && ls.filter((l) => / Leader$/.test(l)).length === 1)
          return true;
        throw new Error(ls.join(", "));
      },
      60_000,
    );
    assert.deepEqual(await envOf(a, "loop").then((e) => e.includes("P=cut")), false);
  });
});
