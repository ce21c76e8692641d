/**
 * The routing mesh across three nodes (a manager and two workers, each with its own dockerd in its
 * own netns, FORWARD policy DROP as on a real host): a port published in ingress mode answers on
 * every node's address, including nodes without a task of the service, and on the node's own
 * loopback; connections spread over the service's running tasks on any node; --publish-add/rm,
 * scaling down and a killed node change the set. Clients are the test process (root namespace, to
 * the nodes' addresses on the harness bridge) and the nodes themselves (curl on 127.0.0.1).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { httpGet } from "../helpers/mesh-client.ts";
import { waitFor } from "../helpers/shoal.ts";
import { type ClusterHarness, ClusterHarness as Harness } from "./harness.ts";
import { disposeAfterTests, forwardPolicyDrop } from "./per-file.ts";

/** `n` requests in a row: the distinct backends that answered and the failures. */
async function sample(
  host: string,
  port: number,
  n: number,
): Promise<{ backends: Set<string>; errors: string[] }> {
  const backends = new Set<string>();
  const errors: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await httpGet(host, port);
    if (r.ok) backends.add(r.body);
    else errors.push(r.error);
  }
  return { backends, errors };
}

const show = (s: { backends: Set<string>; errors: string[] }) =>
  `backends [${[...s.backends].join(", ")}], errors [${s.errors.join(", ")}]`;

/** A per-task page (the container's hostname) on ports 80 and 81, and the client's address at /cgi-bin/ip. */
const HTTPD = [
  "mkdir -p /www/cgi-bin && hostname > /www/index.html",
  "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip",
  "chmod +x /www/cgi-bin/ip && httpd -p 81 -h /www && exec httpd -f -p 80 -h /www",
].join(" && ");
/** The IPv4 address in busybox's REMOTE_ADDR ("[::ffff:172.16.5.254]"). */
const ipv4 = (s: string) => s.match(/(\d+\.\d+\.\d+\.\d+)\]?\s*$/)?.[1];

describe("routing mesh across three nodes", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await Harness.create({ nodes: 3, name: "mesh", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 1 });
    await forwardPolicyDrop(cluster);
  });
  disposeAfterTests(() => cluster);

  const ok = async (args: string[]) => {
    const r = await cluster.node(1).docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** Waits until every node's address answers `port` from exactly `count` backends (and no error). */
  const converged = (port: number, count: number, timeoutMs = 90_000) =>
    waitFor(
      `port ${port} answering from ${count} backend(s) on every node`,
      async () => {
        const seen = new Set<string>();
        for (const n of cluster.nodes) {
          const s = await sample(n.addr, port, 8);
          if (s.errors.length > 0 || s.backends.size !== count) throw new Error(`${n.addr}: ${show(s)}`);
          for (const b of s.backends) seen.add(b);
        }
        return seen.size === count ? seen : undefined;
      },
      timeoutMs,
    );
  const curlLoopback = (i: number, port: number) =>
    cluster.node(i).exec(["curl", "-sS", "-m", "3", `http://127.0.0.1:${port}/`]);

  test("a published port answers on every node, spread over the tasks, even where no task runs", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "web",
      "--replicas",
      "2",
      "--constraint",
      `node.hostname==${cluster.node(2).hostname}`,
      "-p",
      "8080:80",
      "busybox:local",
      "sh",
      "-c",
      HTTPD,
    ]);
    const backends = await converged(8080, 2);
    assert.equal(backends.size, 2);
    // from the nodes themselves, on loopback: node 1 (manager) and 3 run no task of web
    for (const i of [1, 2, 3]) {
      const seen = new Set<string>();
      for (let k = 0; k < 6; k++) {
        const r = await curlLoopback(i, 8080);
        assert.equal(r.code, 0, `node ${i} 127.0.0.1:8080: ${r.stderr}`);
        seen.add(r.stdout.trim());
      }
      assert.deepEqual([...seen].sort(), [...backends].sort(), `node ${i} loopback`);
    }
    // node 3 has no task: it joined ingress for the mesh alone
    const tables = await cluster.node(3).exec(["nft", "list", "tables"]);
    assert.match(tables.stdout, /^table ip shoal_mesh_\d+$/m);
    const rules = await cluster.node(3).exec(["iptables", "-S", "DOCKER-USER"]);
    assert.match(rules.stdout, /--ctstate DNAT -m comment --comment shoal-mesh-\d+ -j ACCEPT/);
  });

  test("backends see the client's address; node-local clients come from the node's ingress address", async () => {
    // from the test process (the harness bridge's address) through node 1, which runs no task
    const r = await httpGet(cluster.node(1).addr, 8080, "/cgi-bin/ip");
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(ipv4(r.body), cluster.gateway);
    // from node 3 through node 1
    const n3 = await cluster
      .node(3)
      .exec(["curl", "-sS", "-m", "3", `http://${cluster.node(1).addr}:8080/cgi-bin/ip`]);
    assert.equal(n3.code, 0, n3.stderr);
    assert.equal(ipv4(n3.stdout), cluster.node(3).addr);
    // node 1's own loopback: SNATed to its ingress address (a loopback source cannot be routed back)
    const lo = await cluster.node(1).exec(["curl", "-sS", "-m", "3", "http://127.0.0.1:8080/cgi-bin/ip"]);
    assert.equal(lo.code, 0, lo.stderr);
    assert.match(ipv4(lo.stdout) ?? "", /^10\.0\.0\.\d+$/);
  });

  test("--publish-add answers on the new port, --publish-rm stops the old one", async () => {
    // A changed endpoint replaces every task (as in Swarm), stop-first, one at a time. Without -d
    // the CLI waits until that rollout is done: tables seen mid-rollout can still list a task the
    // updater has just taken out, and a scale-down overlapping the rollout leaves one replica that
    // the updater then stops before its replacement runs (nothing serves meanwhile, in Swarm too).
    await ok(["service", "update", "--publish-add", "8081:81", "web"]);
    await converged(8081, 2);
    // the docker CLI removes by target port
    await ok(["service", "update", "--publish-rm", "80", "web"]);
    await waitFor(
      "port 8080 refused on every node",
      async () => {
        for (const n of cluster.nodes) {
          const r = await httpGet(n.addr, 8080);
          if (r.ok || r.error !== "ECONNREFUSED") throw new Error(`${n.addr}: ${JSON.stringify(r)}`);
        }
        return true;
      },
      60_000,
    );
    await converged(8081, 2);
  });

  test("scaling down leaves one backend, and no request fails", async () => {
    await ok(["service", "scale", "-d", "web=1"]);
    const left = await converged(8081, 1);
    assert.equal(left.size, 1);
  });

  test("a killed daemon's mesh keeps answering; restarted, it loads its own table and sweeps the old one", async () => {
    const n3 = cluster.node(3);
    const meshTables = async () =>
      [...(await n3.exec(["nft", "list", "tables"])).stdout.matchAll(/^table ip (shoal_mesh_\d+)$/gm)].map(
        (m) => m[1],
      );
    const before = await meshTables();
    assert.equal(before.length, 1, `tables: ${before.join(", ")}`);
    await n3.killShoal("SIGKILL");
    // the kernel keeps forwarding with the dead daemon's table
    const during = await sample(n3.addr, 8081, 6);
    assert.deepEqual([during.errors, during.backends.size], [[], 1], show(during));
    await n3.restartShoal();
    await waitFor(
      "node 3 with one new mesh table and only the new daemon's DOCKER-USER rules",
      async () => {
        const tables = await meshTables();
        const rules = (await n3.exec(["iptables", "-S", "DOCKER-USER"])).stdout;
        const owners = new Set([...rules.matchAll(/shoal-mesh-(\d+)/g)].map((m) => `shoal_mesh_${m[1]}`));
        if (
          tables.length !== 1 ||
          tables[0] === before[0] ||
          owners.size !== 1 ||
          !owners.has(tables[0] ?? "")
        )
          throw new Error(`tables ${tables.join(", ")}; rules of ${[...owners].join(", ")}`);
        return true;
      },
      60_000,
    );
    const after = await sample(n3.addr, 8081, 6);
    const ruleset = after.errors.length > 0 ? (await n3.exec(["nft", "list", "ruleset"])).stdout : "";
    assert.deepEqual([after.errors, after.backends.size], [[], 1], `${show(after)}\n${ruleset}`);
  });

  test("the tasks of a killed node leave the set", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "spread",
      "--replicas",
      "2",
      "--replicas-max-per-node",
      "1",
      "--constraint",
      "node.role==worker",
      "-p",
      "8082:80",
      "busybox:local",
      "sh",
      "-c",
      HTTPD,
    ]);
    const both = await converged(8082, 2);
    assert.equal(both.size, 2);
    await cluster.node(3).crash();
    // node 3 is marked down after the heartbeat grace period; its task leaves the set with it
    const survivor = await waitFor(
      "8082 answering from node 2's task alone, on nodes 1 and 2",
      async () => {
        const seen = new Set<string>();
        for (const i of [1, 2]) {
          const s = await sample(cluster.node(i).addr, 8082, 8);
          if (s.errors.length > 0 || s.backends.size !== 1) return undefined;
          for (const b of s.backends) seen.add(b);
        }
        return seen.size === 1 ? seen : undefined;
      },
      90_000,
    );
    assert.ok([...survivor].every((b) => both.has(b)));
  });

  test("with no published service left, nodes leave the mesh: no table, no DOCKER-USER rule, no ingress bridge", async () => {
    await ok(["service", "rm", "web", "spread"]);
    await waitFor(
      "nodes 1 and 2 out of the mesh",
      async () => {
        for (const i of [1, 2]) {
          const n = cluster.node(i);
          const tables = await n.exec(["nft", "list", "tables"]);
          const rules = await n.exec(["iptables", "-S", "DOCKER-USER"]);
          const nets = await n.dockerdCli(["network", "ls", "-q", "--filter", "label=io.shoal.network"]);
          if (
            /shoal_mesh_/.test(tables.stdout) ||
            /shoal-mesh-/.test(rules.stdout) ||
            nets.stdout.trim() !== ""
          )
            return undefined;
        }
        return true;
      },
      60_000,
    );
  });
});
