/**
 * Zero failed requests across nodes: a manager running a client and two workers running a
 * 4-replica web service (helpers/load.ts: exits at once on SIGTERM, a 1.5 s CGI, listens 2 s after
 * its start behind a healthcheck). The client's VIP rules live on node 1, the backends on nodes 2
 * and 3, so a going task must leave node 1's rules (the dispatcher's push to node 1's agent)
 * before its own node stops it. Under load: `node update --availability drain` of node 3 (the
 * scheduler spread the replicas 2 + 2), then, node 3 active again, a stop-first rolling update
 * (replacements land on both workers). Every request must succeed.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { backendServiceArgs, RequestLoops } from "../helpers/load.ts";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("zero failed requests across three nodes: rolling update and node drain", () => {
  let cluster: ClusterHarness;
  let load: RequestLoops;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 3, name: "zd", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 1 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (args: string[], timeoutMs = 120_000) => {
    const r = await cluster.node(1).docker(args, { timeoutMs });
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** Web tasks meant to run and running, with their node's hostname. */
  const running = async () =>
    (
      await ok([
        "service",
        "ps",
        "web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}} {{.CurrentState}}",
      ])
    )
      .split("\n")
      .filter((l) => / Running/.test(l))
      .map((l) => l.split(" ")[0] ?? "");
  test("setup: web on the workers, the client on the manager, the VIP answering", async () => {
    await ok(["network", "create", "-d", "overlay", "--attachable", "--subnet", "10.214.41.0/24", "zdnet"]);
    await ok([
      ...["service", "create", "-d", "--name", "web", "--network", "zdnet", "--replicas", "4"],
      ...["--constraint", "node.role==worker", "--update-parallelism", "1"],
      ...backendServiceArgs(1.5),
    ]);
    await ok([
      ...["service", "create", "-d", "--name", "client", "--network", "zdnet"],
      ...["--constraint", "node.role==manager", "busybox:local", "sleep", "1d"],
    ]);
    await waitFor("4 web tasks running", async () => (await running()).length === 4, 120_000);
    const client = await waitFor(
      "the client container",
      async () => {
        const r = await cluster
          .node(1)
          .dockerdCli(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=client"]);
        return r.stdout.trim().split("\n").filter(Boolean)[0];
      },
      90_000,
    );
    load = new RequestLoops(`unix://${cluster.node(1).dockerd}`, client, "web");
    await waitFor("the VIP answering", () => load.answers(), 60_000);
  });

  test("node update --availability drain: no request fails while its tasks move", async () => {
    const hostname = cluster.node(3).hostname;
    const before = await running();
    assert.ok(before.includes(hostname), `web runs on ${hostname} before the drain: ${before.join(",")}`);
    await load.during("node drain", async () => {
      await ok(["node", "update", "--availability", "drain", hostname]);
      await waitFor(
        "4 web tasks running, none on the drained node",
        async () => {
          const nodes = await running();
          return nodes.length === 4 && !nodes.includes(hostname);
        },
        120_000,
      );
      await waitFor(
        "no web container running on the drained node",
        async () => {
          const r = await cluster
            .node(3)
            .dockerdCli(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=web"]);
          return r.code === 0 && r.stdout.trim() === "";
        },
        60_000,
      );
    });
  });
  test("service update --force (stop-first), node 3 active again: no request fails", async () => {
    await ok(["node", "update", "--availability", "active", cluster.node(3).hostname]);
    await load.during("stop-first update across nodes", async () => {
      await ok(["service", "update", "--force", "web"], 300_000);
    });
    assert.equal((await running()).length, 4);
  });
});
