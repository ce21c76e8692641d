/**
 * The overlay data plane across nodes: a manager and a worker, each with its own dockerd in its own
 * netns. A global `api` service puts one httpd on each node; a client on the manager resolves
 * `tasks.api` to both task addresses and reaches both backends through the VIP over VXLAN (static
 * FDB/neighbour entries from the dispatcher's peer view).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("overlay across two nodes", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 2, name: "ov", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 1 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (args: string[]) => {
    const r = await cluster.node(1).docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const clientContainer = async () => {
    const r = await cluster
      .node(1)
      .dockerdCli(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=client"]);
    return r.stdout.trim().split("\n").filter(Boolean)[0];
  };
  const execIn = async (container: string, cmd: string[]) =>
    cluster.node(1).dockerdCli(["exec", container, ...cmd]);

  test("a client on node 1 reaches api's tasks on both nodes by name and VIP", async () => {
    await ok(["network", "create", "-d", "overlay", "--subnet", "10.214.0.0/24", "backend"]);
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "api",
      "--mode",
      "global",
      "--network",
      "backend",
      "busybox:local",
      "sh",
      "-c",
      "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www",
    ]);
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "client",
      "--network",
      "backend",
      "--constraint",
      "node.role==manager",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    const client = await waitFor("the client container", clientContainer, 90_000);
    const tasks = await waitFor(
      "tasks.api with two addresses",
      async () => {
        const r = await execIn(client, ["nslookup", "tasks.api"]);
        const ips = [...r.stdout.matchAll(/Address: (10\.214\.0\.\d+)/g)].map((m) => m[1]);
        return ips.length === 2 ? ips : undefined;
      },
      90_000,
    );
    assert.equal(tasks.length, 2);
    const seen = new Set<string>();
    await waitFor(
      "answers from both nodes' backends through the VIP",
      async () => {
        const r = await execIn(client, ["timeout", "3", "wget", "-qO-", "http://api/"]);
        if (r.code === 0) seen.add(r.stdout.trim());
        return seen.size === 2 ? true : undefined;
      },
      60_000,
    );
    // and each task address directly
    for (const ip of tasks) {
      const r = await execIn(client, ["timeout", "3", "wget", "-qO-", `http://${ip}/`]);
      assert.equal(r.code, 0, `${ip}: ${r.stderr}`);
    }
    // node 2 holds the VXLAN device with a static entry for the client, and no flood entry
    const fdb = await cluster.node(2).exec(["bridge", "fdb", "show", "dev", "shv4097"]);
    assert.equal(fdb.code, 0, fdb.stderr);
    assert.doesNotMatch(fdb.stdout, /^00:00:00:00:00:00/m);
    assert.match(fdb.stdout, /^02:42:0a:d6:00:[0-9a-f]{2} dst \d+\.\d+\.\d+\.\d+ self permanent/m);
  });

  test("removing the services removes the bridge and the VXLAN device on the worker", async () => {
    await ok(["service", "rm", "api", "client"]);
    await waitFor(
      "node 2 without shv4097 and shoal networks",
      async () => {
        const link = await cluster.node(2).exec(["ip", "link", "show", "shv4097"]);
        const nets = await cluster
          .node(2)
          .dockerdCli(["network", "ls", "-q", "--filter", "label=io.shoal.network"]);
        return link.code !== 0 && nets.stdout.trim() === "" ? true : undefined;
      },
      60_000,
    );
  });
});
