/**
 * Issue #5: `docker swarm ca --rotate` on a real cluster (three managers, a worker). The real CLI
 * waits until every node holds a certificate from the new root and trusts it; services keep their
 * containers; every manager's etcd member restarts in turn to trust the new root and the cluster
 * keeps committing writes; a machine joining later needs the new token (the old one pins the old
 * root and is refused).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ClusterHarness, type ClusterNode, waitFor } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("root CA rotation across a cluster", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 4, name: "car", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 3 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (n: ClusterNode, args: string[], timeoutMs?: number) => {
    const r = await n.docker(args, timeoutMs ? { timeoutMs } : {});
    assert.equal(r.code, 0, `node ${n.index}: docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const containersOn = async (n: ClusterNode) =>
    (await n.dockerdCli(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=steady"])).stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .sort();
  const rootFileOf = (n: ClusterNode) =>
    readFileSync(join(n.shoalDataDir, "swarm", "certificates", "swarm-root-ca.crt"), "utf8").trim();

  let oldToken = "";
  let newRoot = "";
  const before4: string[][] = [];

  test("swarm ca --rotate converges on every node; services keep their containers", async () => {
    const n1 = cluster.node(1);
    await ok(n1, [
      "service",
      "create",
      "-d",
      "--name",
      "steady",
      "--replicas",
      "4",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    await waitFor(
      "4 steady containers",
      async () => {
        const all = await Promise.all([1, 2, 3, 4].map((i) => containersOn(cluster.node(i))));
        return all.flat().length === 4 ? all : undefined;
      },
      60_000,
    ).then((all) => before4.push(...all));
    const oldRoot = (await ok(n1, ["swarm", "ca"])).trim();
    oldToken = (await ok(n1, ["swarm", "join-token", "-q", "worker"])).trim();

    const started = Date.now();
    const out = await ok(n1, ["swarm", "ca", "--rotate"], 240_000);
    const took = Date.now() - started;
    newRoot = out.slice(out.indexOf("-----BEGIN CERTIFICATE-----")).trim();
    assert.match(out, /rotated TLS certificates/);
    assert.match(newRoot, /^-----BEGIN CERTIFICATE-----/);
    assert.notEqual(newRoot, oldRoot);
    console.error(`rotation of 4 nodes took ${took} ms`);

    // Every node's TLSInfo (as every manager sees it) and its root file on disk. The CLI is done
    // when every certificate has the new issuer; a node reports the root it trusts on its next
    // check-in with the CA (every 3 s), so the trust roots may lag the CLI by a few seconds.
    for (const m of [1, 2, 3]) {
      await waitFor(
        `every node's TrustRoot is the new root, as node ${m} sees it`,
        async () => {
          const ids = (await ok(cluster.node(m), ["node", "ls", "-q"])).trim().split("\n");
          if (ids.length !== 4) return undefined;
          const roots = await ok(cluster.node(m), [
            "node",
            "inspect",
            ...ids,
            "--format",
            "{{json .Description.TLSInfo.TrustRoot}}",
          ]);
          const lines = roots.trim().split("\n");
          return lines.every((l) => (JSON.parse(l) as string).trim() === newRoot) ? true : undefined;
        },
        30_000,
      );
      assert.equal((await ok(cluster.node(m), ["swarm", "ca"])).trim(), newRoot);
    }
    for (const i of [1, 2, 3, 4]) {
      await waitFor(
        `node ${i}'s root file is the new root`,
        async () => (rootFileOf(cluster.node(i)) === newRoot ? true : undefined),
        30_000,
      );
    }
    const after4 = await Promise.all([1, 2, 3, 4].map((i) => containersOn(cluster.node(i))));
    assert.deepEqual(after4, before4, "no container was replaced");
  });

  test("every manager's etcd member restarts in turn; writes keep committing", async () => {
    for (const i of [1, 2, 3]) {
      await waitFor(
        `node ${i}'s etcd member restarted for the new root`,
        async () =>
          readFileSync(cluster.node(i).logs.shoal, "utf8").includes(
            "etcd member restarted to trust the new root CA",
          ),
        90_000,
      );
    }
    await ok(cluster.node(2), ["service", "update", "-d", "--env-add", "AFTER=1", "steady"]);
    await ok(cluster.node(3), ["service", "create", "-d", "--name", "later", "busybox:local", "sleep", "1d"]);
    const ls = await ok(cluster.node(1), ["node", "ls", "--format", "{{.Status}} {{.ManagerStatus}}"]);
    const lines = ls.trim().split("\n").sort();
    assert.deepEqual(lines, ["Ready", "Ready Leader", "Ready Reachable", "Ready Reachable"].sort());
  });

  test("a new machine: the old token is refused, the new one joins", async () => {
    const n5 = await cluster.addNode({ shoal: true });
    const n1 = cluster.node(1);
    const refused = await n5.docker([
      "swarm",
      "join",
      "--token",
      oldToken,
      "--advertise-addr",
      n5.addr,
      `${n1.addr}:2377`,
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /remote CA does not match fingerprint/);
    const token = (await ok(n1, ["swarm", "join-token", "-q", "worker"])).trim();
    assert.notEqual(token, oldToken);
    await ok(n5, ["swarm", "join", "--token", token, "--advertise-addr", n5.addr, `${n1.addr}:2377`]);
    await waitFor(
      "node 5 Ready",
      async () =>
        (await ok(n1, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])).includes(
          `${n5.hostname} Ready`,
        ),
      60_000,
    );
    assert.equal(rootFileOf(n5), newRoot);
  });
});
