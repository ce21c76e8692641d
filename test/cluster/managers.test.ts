/**
 * Issue: a real multi-node cluster, the manager half. Four nodes in network namespaces: three
 * managers (etcd members, peers over mutual TLS with the swarm's CA) and a worker. One manager
 * leads; killing its daemon (and with it its etcd) hands leadership to another within seconds,
 * services can be created on a survivor, the worker keeps its tasks and re-registers with a
 * surviving manager, and the killed manager comes back as Reachable.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness, type ClusterNode } from "./harness.ts";
import { leaderOf } from "./leader.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("three managers and a worker", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 4, name: "mg", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 3 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (n: ClusterNode, args: string[]) => {
    const r = await n.docker(args);
    assert.equal(r.code, 0, `node ${n.index}: docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const nodeLs = async (n: ClusterNode) =>
    (await ok(n, ["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"]))
      .trim()
      .split("\n")
      .sort();
  const runningOn = async (n: ClusterNode, service: string) => {
    const out = await ok(n, [
      "service",
      "ps",
      service,
      "--filter",
      "desired-state=running",
      "--format",
      "{{.Node}} {{.CurrentState}}",
    ]);
    return out
      .trim()
      .split("\n")
      .filter((l) => / Running/.test(l))
      .map((l) => l.split(" ")[0] as string);
  };

  let leader = 1;

  test("node ls shows one Leader and two Reachable managers, on every manager", async () => {
    for (const i of [1, 2, 3]) {
      const lines = await waitFor(
        `node ls on node ${i}: 1 Leader + 2 Reachable`,
        async () => {
          const l = await nodeLs(cluster.node(i));
          const leaders = l.filter((x) => / Ready Leader$/.test(x)).length;
          const reachable = l.filter((x) => / Ready Reachable$/.test(x)).length;
          return leaders === 1 && reachable === 2 ? l : undefined;
        },
        30_000,
      );
      assert.match(lines[3] as string, /^mg-node4 Ready\s*$/);
    }
    leader = (await leaderOf(cluster, cluster.node(1))) ?? 0;
    assert.equal(leader, 1);
    const info = await ok(cluster.node(2), [
      "info",
      "--format",
      "{{.Swarm.ControlAvailable}} {{.Swarm.Managers}} {{len .Swarm.RemoteManagers}}",
    ]);
    assert.equal(info.trim(), "true 3 3");
    // every node's Status.Addr is its own address, joined managers included (overlay entries use it)
    for (const i of [1, 2, 3, 4]) {
      const addr = await waitFor(
        `Status.Addr of mg-node${i}`,
        async () => {
          const r = await cluster
            .node(1)
            .docker(["node", "inspect", `mg-node${i}`, "--format", "{{.Status.Addr}}"]);
          return r.stdout.trim() || undefined;
        },
        15_000,
      );
      assert.equal(addr, cluster.node(i).addr);
    }
  });

  test("a service created on a follower runs on every node", async () => {
    await ok(cluster.node(2), [
      "service",
      "create",
      "-d",
      "--name",
      "spread",
      "--replicas",
      "4",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    await waitFor(
      "4 running tasks of spread",
      async () => ((await runningOn(cluster.node(3), "spread")).length === 4 ? true : undefined),
      60_000,
    );
  });

  test("service logs reach every node from every manager (relayed by the session's manager)", async () => {
    await ok(cluster.node(1), [
      "service",
      "create",
      "-d",
      "--name",
      "talk",
      "--mode",
      "global",
      "busybox:local",
      "sh",
      "-c",
      "while true; do echo hello from $(hostname); sleep 0.5; done",
    ]);
    for (const i of [1, 2, 3]) {
      await waitFor(
        `log lines from all four nodes on node ${i}`,
        async () => {
          const r = await cluster.node(i).docker(["service", "logs", "--tail", "2", "talk"]);
          const hosts = new Set([...r.stdout.matchAll(/@(\S+)\s+\|/g)].map((x) => x[1]));
          return hosts.size === 4 ? true : undefined;
        },
        60_000,
      );
    }
    await ok(cluster.node(1), ["service", "rm", "talk"]);
  });

  test("kill -9 the leader: another manager leads, services still work, the worker fails over", async () => {
    const spreadOnWorker = async () =>
      (
        await cluster
          .node(4)
          .dockerdCli(["ps", "-q", "--no-trunc", "--filter", "label=com.docker.swarm.service.name=spread"])
      ).stdout
        .split("\n")
        .filter(Boolean);
    const workerContainers = await spreadOnWorker();
    assert.ok(workerContainers.length > 0, "the worker runs a spread task");
    await cluster.node(leader).killShoal("SIGKILL");
    const killed = leader;
    const survivor = cluster.node(killed === 2 ? 3 : 2);
    const started = Date.now();
    leader = await waitFor(
      "a new leader",
      async () => {
        const l = await leaderOf(cluster, survivor).catch(() => undefined);
        return l !== undefined && l !== killed ? l : undefined;
      },
      30_000,
    );
    const took = Date.now() - started;
    assert.ok(took < 15_000, `failover took ${took} ms`);
    await waitFor(
      `node ${killed} Unreachable`,
      async () =>
        (await nodeLs(survivor)).some((l) => l.startsWith(`mg-node${killed} `) && /Unreachable/.test(l)),
      30_000,
    );
    await ok(survivor, [
      "service",
      "create",
      "-d",
      "--name",
      "after",
      "--replicas",
      "2",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    await waitFor(
      "2 running tasks of after",
      async () => ((await runningOn(survivor, "after")).length === 2 ? true : undefined),
      60_000,
    );
    // The worker's containers never stopped (it may have gained the dead manager's tasks once that
    // node went down), and it is Ready through a surviving manager.
    const now = await spreadOnWorker();
    for (const id of workerContainers) assert.ok(now.includes(id), `worker container ${id} stopped`);
    await waitFor(
      "the worker Ready on a survivor and all 4 spread tasks running",
      async () => {
        const ls = await nodeLs(survivor);
        const running = await runningOn(survivor, "spread");
        return ls.some((l) => /^mg-node4 Ready/.test(l)) && running.length === 4 ? true : undefined;
      },
      60_000,
    );
  });

  test("the killed manager restarts and rejoins as Reachable", async () => {
    const killed = [1, 2, 3].find((i) => !cluster.node(i).shoalPid) as number;
    await cluster.node(killed).restartShoal();
    await waitFor(
      `node ${killed} Ready Reachable`,
      async () =>
        (await nodeLs(cluster.node(leader))).some((l) => l === `mg-node${killed} Ready Reachable`)
          ? true
          : undefined,
      60_000,
    );
    const ls = await nodeLs(cluster.node(killed));
    assert.equal(ls.filter((l) => /Leader$/.test(l)).length, 1, ls.join("\n"));
  });

  test("promote the worker: it becomes a Reachable manager; demote it: a worker again", async () => {
    const m = cluster.node(leader);
    const w = cluster.node(4);
    await ok(m, ["node", "promote", "mg-node4"]);
    await waitFor(
      "mg-node4 Ready Reachable",
      async () => ((await nodeLs(m)).includes("mg-node4 Ready Reachable") ? true : undefined),
      60_000,
    );
    await waitFor(
      "node 4 serves the control API",
      async () => ((await w.docker(["node", "ls", "-q"])).code === 0 ? true : undefined),
      30_000,
    );
    await waitFor(
      "four managers in node 4's view",
      async () =>
        (await nodeLs(w)).filter((l) => / Ready (Reachable|Leader)$/.test(l)).length === 4 ? true : undefined,
      30_000,
    );
    await ok(m, ["node", "demote", "mg-node4"]);
    await waitFor(
      "mg-node4 a worker again",
      async () => {
        const info = await w.docker([
          "info",
          "--format",
          "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ]);
        const ls = await nodeLs(m);
        return info.stdout.trim() === "active false" && ls.some((l) => /^mg-node4 Ready\s*$/.test(l))
          ? true
          : undefined;
      },
      60_000,
    );
    // The remaining managers still agree on one leader and accept writes.
    await ok(m, ["service", "scale", "-d", "after=3"]);
    await waitFor(
      "3 running tasks of after",
      async () => ((await runningOn(m, "after")).length === 3 ? true : undefined),
      60_000,
    );
  });

  test("swarm leave on a manager is refused without --force (moby's text)", async () => {
    const r = await cluster.node(3).docker(["swarm", "leave"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /You are attempting to leave the swarm on a node that is participating as a manager\./,
    );
  });

  test("swarm leave --force on a manager removes its etcd member; node rm then removes the node", async () => {
    const current = (await leaderOf(cluster, cluster.node(1))) ?? leader;
    const leaving = [1, 2, 3].find((i) => i !== current) as number;
    const m = cluster.node(current);
    await ok(cluster.node(leaving), ["swarm", "leave", "--force"]);
    await waitFor(
      `mg-node${leaving} Down, no longer a manager`,
      async () =>
        (await nodeLs(m)).some((l) => new RegExp(`^mg-node${leaving} Down\\s*$`).test(l)) ? true : undefined,
      30_000,
    );
    await ok(m, ["node", "rm", `mg-node${leaving}`]);
    // Two managers left, both etcd members: writes still commit.
    await ok(m, ["service", "scale", "-d", "after=1"]);
    await waitFor(
      "1 running task of after",
      async () => ((await runningOn(m, "after")).length === 1 ? true : undefined),
      60_000,
    );
    const ls = await nodeLs(m);
    assert.equal(ls.length, 3, ls.join("\n"));
    assert.equal(ls.filter((l) => / Ready (Leader|Reachable)$/.test(l)).length, 2, ls.join("\n"));
  });
});
