/**
 * Issue: a real multi-node cluster. Three nodes in network namespaces, each with its own dockerd
 * and shoal daemon: one manager, two workers joined with the worker token over the cluster API
 * (mutual TLS). Services spread over all nodes, logs come back from workers, a dead worker is
 * marked down and its tasks are rescheduled, drain moves tasks away. A worker that comes back
 * (daemon restarted, partition healed) is Ready again and its stale containers are stopped: the
 * service runs exactly its replicas.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("a manager and two workers", () => {
  let cluster: ClusterHarness;
  let ids: string[] = [];
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 3, name: "wk", shoal: true, registry: false });
    ids = (await cluster.formSwarm({ managers: 1 })).nodeIds;
  });
  disposeAfterTests(() => cluster, 40);

  const m = () => cluster.node(1);
  const ok = async (args: string[]) => {
    const r = await m().docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const placement = async (service: string) => {
    const out = await ok([
      "service",
      "ps",
      service,
      "--filter",
      "desired-state=running",
      "--format",
      "{{.Node}} {{.CurrentState}}",
    ]);
    const byNode = new Map<string, number>();
    for (const line of out
      .trim()
      .split("\n")
      .filter((l) => / Running/.test(l))) {
      const node = line.split(" ")[0] as string;
      byNode.set(node, (byNode.get(node) ?? 0) + 1);
    }
    return byNode;
  };

  test("node ls shows the manager as Leader and two Ready workers", async () => {
    const out = await ok([
      "node",
      "ls",
      "--format",
      "{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}",
    ]);
    const lines = out.trim().split("\n").sort();
    assert.equal(lines.length, 3, out);
    assert.match(lines[0] as string, /^wk-node1 Ready Active Leader$/);
    assert.match(lines[1] as string, /^wk-node2 Ready Active\s*$/);
    assert.match(lines[2] as string, /^wk-node3 Ready Active\s*$/);
    const info = await cluster
      .node(2)
      .docker(["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"]);
    assert.equal(info.stdout.trim(), "active false");
    const denied = await cluster.node(2).docker(["node", "ls"]);
    assert.match(denied.stderr, /Worker nodes can't be used to view or modify cluster state/);
  });

  test("a replicated service spreads over every node", async () => {
    await ok([
      "service",
      "create",
      "--name",
      "spread",
      "--replicas",
      "6",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    const byNode = await placement("spread");
    assert.deepEqual([...byNode.values()].sort(), [2, 2, 2], JSON.stringify([...byNode]));
  });

  test("service logs come back from tasks on workers", async () => {
    await ok([
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
      "while true; do echo hello from $(hostname); sleep 0.3; done",
    ]);
    const logs = await waitFor(
      "log lines from all three nodes",
      async () => {
        const r = await m().docker(["service", "logs", "--tail", "3", "talk"]);
        const hosts = new Set([...r.stdout.matchAll(/@(\S+)\s+\|/g)].map((x) => x[1]));
        return hosts.size === 3 ? r.stdout : undefined;
      },
      60_000,
    );
    assert.match(logs, /hello from/);
  });

  test("drain moves a node's tasks to the others", async () => {
    await ok(["node", "update", "--availability", "drain", "wk-node3"]);
    await waitFor(
      "no running task of spread on node 3",
      async () => {
        const byNode = await placement("spread");
        return !byNode.has("wk-node3") && [...byNode.values()].reduce((a, b) => a + b, 0) === 6;
      },
      90_000,
    );
    await ok(["node", "update", "--availability", "active", "wk-node3"]);
  });

  test("a worker whose daemon dies is marked down and its tasks move", async () => {
    await cluster.node(2).killShoal("SIGKILL");
    await waitFor(
      "node 2 Down",
      async () => /wk-node2 Down/.test(await ok(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])),
      60_000,
    );
    await waitFor(
      "all 6 spread tasks running on nodes 1 and 3",
      async () => {
        const byNode = await placement("spread");
        return !byNode.has("wk-node2") && [...byNode.values()].reduce((a, b) => a + b, 0) === 6;
      },
      90_000,
    );
    assert.ok(ids.length === 3);
  });

  /** Containers of the service running on each node's dockerd (what really runs, not what is reported). */
  const containersByNode = async (service: string) =>
    Promise.all(
      cluster.nodes.map(async (n) => {
        const r = await n.dockerdCli([
          "ps",
          "-q",
          "--filter",
          `label=com.docker.swarm.service.name=${service}`,
        ]);
        return r.stdout.split("\n").filter(Boolean);
      }),
    );
  /** Running tasks equal the spec, one per slot, and exactly that many containers run. */
  const noDuplicates = async (service: string, replicas: number) => {
    const names = (
      await ok([
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Name}} {{.CurrentState}}",
      ])
    )
      .trim()
      .split("\n")
      .filter((l) => / Running/.test(l))
      .map((l) => l.split(" ")[0]);
    const containers = (await containersByNode(service)).flat();
    if (names.length !== replicas || new Set(names).size !== replicas || containers.length !== replicas)
      throw new Error(`running tasks ${names.join(",")}; ${containers.length} containers`);
    return true;
  };

  test("the dead worker's daemon comes back: Ready, its old containers stopped, no duplicate tasks", async () => {
    const before = (await containersByNode("spread"))[1] as string[];
    assert.ok(before.length > 0, "node 2's dockerd kept the containers of the tasks that moved");
    await cluster.node(2).restartShoal();
    await waitFor(
      "node 2 Ready",
      async () => /wk-node2 Ready/.test(await ok(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])),
      60_000,
    );
    await waitFor("6 running tasks and 6 containers of spread", () => noDuplicates("spread", 6), 60_000);
    const after = (await containersByNode("spread"))[1] as string[];
    for (const id of before) assert.ok(!after.includes(id), `node 2 still runs its old container ${id}`);
  });

  test("a partitioned worker goes Down and its tasks move; healed: Ready, old containers stopped, no duplicates", async () => {
    const spread = await placement("spread");
    assert.ok(
      (spread.get("wk-node3") ?? 0) > 0,
      `node 3 runs no spread task: ${JSON.stringify([...spread])}`,
    );
    const before = (await containersByNode("spread"))[2] as string[];
    await cluster.partition(3);
    await waitFor(
      "node 3 Down",
      async () => /wk-node3 Down/.test(await ok(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])),
      60_000,
    );
    await waitFor(
      "6 spread tasks running on nodes 1 and 2",
      async () => {
        const byNode = await placement("spread");
        return !byNode.has("wk-node3") && [...byNode.values()].reduce((a, b) => a + b, 0) === 6;
      },
      90_000,
    );
    await cluster.heal(3);
    await waitFor(
      "node 3 Ready",
      async () => /wk-node3 Ready/.test(await ok(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])),
      60_000,
    );
    await waitFor("6 running tasks and 6 containers of spread", () => noDuplicates("spread", 6), 60_000);
    const after = (await containersByNode("spread"))[2] as string[];
    for (const id of before) assert.ok(!after.includes(id), `node 3 still runs its old container ${id}`);
  });
});
