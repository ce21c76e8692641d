/**
 * Two etcd members on loopback with mutual peer TLS from shoal's CA: the second joins through the
 * first (member add, `initialClusterState: existing`), data replicates, and the member is removed
 * again (retrying while etcd calls the fresh cluster unhealthy).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Etcd3 } from "etcd3";
import { MemoryLogger, RandomIds, SystemClock } from "../base/index.ts";
import { createNodeKeyAndCSR, createRootCA, NodeCertSigner } from "../ca/index.ts";
import { createEtcdClient } from "../store/etcd-client.ts";
import { defaultEtcdMemberConfig, type EtcdMemberConfig } from "./config.ts";
import { EtcdMember, freePort } from "./member.ts";
import { EtcdMembership, initialClusterOf } from "./membership.ts";

describe("etcd peers over mutual TLS", () => {
  const clock = new SystemClock();
  const ids = new RandomIds();
  const log = new MemoryLogger();
  const members: EtcdMember[] = [];
  const clients: Etcd3[] = [];
  let dir = "";
  after(async () => {
    for (const c of clients) c.close();
    for (const m of members) await m.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function memberConfig(name: string, role: "manager" | "worker", signer: NodeCertSigner, ca: string) {
    const d = join(dir, name);
    const { keyPem, csrPem } = await createNodeKeyAndCSR();
    const cert = await signer.sign(csrPem, { nodeId: name, role, clusterId: "c1", ips: ["127.0.0.1"] });
    await import("node:fs/promises").then((fs) => fs.mkdir(d, { recursive: true }));
    writeFileSync(join(d, "node.crt"), cert);
    writeFileSync(join(d, "node.key"), keyPem);
    writeFileSync(join(d, "ca.crt"), ca);
    const c: EtcdMemberConfig = {
      ...defaultEtcdMemberConfig(name, d),
      clientPort: await freePort(),
      peerPort: await freePort(),
      healthTimeoutMs: 15_000,
      peerTls: {
        certFile: join(d, "node.crt"),
        keyFile: join(d, "node.key"),
        trustedCAFile: join(d, "ca.crt"),
        allowedHostname: "swarm-manager",
      },
    };
    return c;
  }

  test("a second member joins, replicates, removes itself and stays down", { timeout: 90_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), "shoal-etcd-tls-"));
    const root = await createRootCA(clock, ids);
    const signer = await NodeCertSigner.create(
      { signingCertPem: root.certPem, signingKeyPem: root.keyPem },
      { clock, ids },
    );
    try {
      const a = new EtcdMember(await memberConfig("a", "manager", signer, root.certPem), log, clock);
      members.push(a);
      await a.start();
      assert.match(a.peerUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = createEtcdClient([a.clientUrl]);
      clients.push(ca);
      await ca.put("/k").value("v");
      const membership = new EtcdMembership(ca, clock, log);

      const bConfig = await memberConfig("b", "manager", signer, root.certPem);
      const bUrl = `https://127.0.0.1:${bConfig.peerPort}`;
      const list = await membership.add(bUrl);
      const b = new EtcdMember(
        { ...bConfig, initialCluster: initialClusterOf(list, "b", bUrl), initialClusterState: "existing" },
        log,
        clock,
      );
      members.push(b);
      await b.start();
      const cb = createEtcdClient([b.clientUrl]);
      clients.push(cb);
      assert.equal(await cb.get("/k").string(), "v");
      assert.equal((await membership.list()).length, 2);

      // b removes itself through its own member, as a demoted or leaving manager does; etcd then
      // stops b (exit status 0), which stays down as removed instead of being restarted.
      await new EtcdMembership(cb, clock, log).removeLocal("b", b);
      const deadline = Date.now() + 10_000;
      while (b.status.state !== "removed" && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(b.status, { state: "removed", restarts: 0 });
      assert.deepEqual(
        (await membership.list()).map((m) => m.name),
        ["a"],
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(b.status, { state: "removed", restarts: 0 });
      await b.stop();
      await b.wipe();
    } catch (err) {
      for (const l of log.lines.slice(-30)) console.error(l);
      throw err;
    }
  });
});
