/** The manager-membership routes (`etcd/join`, `managers`) and IP SANs for managers' certificates. */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { DispatcherConnector } from "../api/index.ts";
import { SystemClock, unavailable } from "../base/index.ts";
import type { ManagerMembership } from "./deps.ts";
import { fetchManagers, joinCluster, joinEtcdCluster, renewCertificate } from "./join.ts";
import { MemoryRegistry, startTestCluster, type TestCluster } from "./testing.ts";

const clock = new SystemClock();
const noDispatcher: DispatcherConnector = {
  openSession: () => Promise.reject(unavailable("no dispatcher in this test")),
};
const sans = (pem: string) => new X509Certificate(pem).subjectAltName ?? "";

describe("manager membership over the cluster API", () => {
  let cluster: TestCluster;
  const registry = new MemoryRegistry();
  const added: Array<{ nodeId: string; peerUrl: string; addr: string }> = [];
  const membership: ManagerMembership = {
    managerAddrs: () => ["10.0.0.1:2377", "10.0.0.2:2377"],
    addManager: async (nodeId, peerUrl, addr) => {
      added.push({ nodeId, peerUrl, addr });
      return { initialCluster: `a=https://10.0.0.1:2380,${nodeId}=${peerUrl}`, dataKey: "a2V5" };
    },
  };
  before(async () => {
    cluster = await startTestCluster({ registry, dispatcher: noDispatcher, membership });
  });
  after(() => cluster.stop());

  test("a manager's certificate names its advertise address; a worker's never does", async () => {
    const m = await joinCluster({
      addr: cluster.addr,
      token: cluster.tokens.manager,
      advertiseAddr: "10.0.0.3",
      clock,
    });
    assert.match(sans(m.credentials.certPem), /IP Address:10\.0\.0\.3/);
    const w = await joinCluster({
      addr: cluster.addr,
      token: cluster.tokens.worker,
      advertiseAddr: "10.0.0.4",
      clock,
    });
    assert.doesNotMatch(sans(w.credentials.certPem), /IP Address/);
    const renewed = await renewCertificate({
      addr: cluster.addr,
      credentials: m.credentials,
      advertiseAddr: "10.0.0.3",
      clock,
    });
    assert.match(sans(renewed.credentials.certPem), /IP Address:10\.0\.0\.3/);
    const named = await joinCluster({
      addr: cluster.addr,
      token: cluster.tokens.manager,
      advertiseAddr: "host.example",
      clock,
    });
    assert.doesNotMatch(sans(named.credentials.certPem), /IP Address|host\.example/);
  });

  test("etcd/join is for managers; the member is named by the caller's certificate", async () => {
    const m = await cluster.mint("mgr2", "manager");
    const reply = await joinEtcdCluster(cluster.addr, m, {
      peerUrl: "https://10.0.0.2:2380",
      addr: "10.0.0.2:2377",
    });
    assert.deepEqual(reply, {
      initialCluster: "a=https://10.0.0.1:2380,mgr2=https://10.0.0.2:2380",
      dataKey: "a2V5",
    });
    assert.deepEqual(added, [{ nodeId: "mgr2", peerUrl: "https://10.0.0.2:2380", addr: "10.0.0.2:2377" }]);
    const w = await cluster.mint("wrk1", "worker");
    await assert.rejects(
      joinEtcdCluster(cluster.addr, w, { peerUrl: "https://10.0.0.9:2380", addr: "10.0.0.9:2377" }),
      /remote certificate not part of OUs: \[swarm-manager\]/,
    );
  });

  test("managers answers the list and the caller's role in the store", async () => {
    const w = await joinCluster({ addr: cluster.addr, token: cluster.tokens.worker, clock });
    assert.deepEqual(await fetchManagers(cluster.addr, w.credentials), {
      managers: ["10.0.0.1:2377", "10.0.0.2:2377"],
      role: "worker",
      rotate: false,
    });
  });
});
