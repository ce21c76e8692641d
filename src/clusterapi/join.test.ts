import assert from "node:assert/strict";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { after, before, test } from "node:test";
import type { DispatcherConnector } from "../api/index.ts";
import { RandomIds, SystemClock, unavailable } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { createRootCA, generateJoinToken, MANAGER_OU, parseNodeCertificate } from "../ca/index.ts";
import { ClusterApiClient } from "./client.ts";
import { fetchRootCA, joinCluster, renewCertificate } from "./join.ts";
import { PATHS } from "./protocol.ts";
import { MemoryRegistry, startTestCluster, type TestCluster } from "./testing.ts";

const clock = new SystemClock();
const noDispatcher: DispatcherConnector = {
  openSession: () => Promise.reject(unavailable("no dispatcher in this test")),
};
let cluster: TestCluster;
let registry: MemoryRegistry;

before(async () => {
  registry = new MemoryRegistry();
  cluster = await startTestCluster({ registry, dispatcher: noDispatcher });
});
after(() => cluster.stop());

/** A call to a manager-only or node endpoint with the given credentials. */
function clientWith(creds: NodeCredentials | undefined): ClusterApiClient {
  return new ClusterApiClient(cluster.addr, {
    rootCAPem: cluster.root.certPem,
    certPem: creds?.certPem,
    keyPem: creds?.keyPem,
    servername: MANAGER_OU,
  });
}

async function callAs(creds: NodeCredentials | undefined, path: string, body: unknown): Promise<unknown> {
  const client = clientWith(creds);
  try {
    return await client.call(path, body);
  } finally {
    client.close();
  }
}

const logsSubscribe = { nodeId: "x", request: { taskIds: [], follow: false, stdout: true, stderr: true } };

test("a worker joins with the worker token and gets a worker certificate", async () => {
  const joined = await joinCluster({ addr: cluster.addr, token: cluster.tokens.worker, clock });
  assert.equal(joined.role, "worker");
  assert.equal(joined.clusterId, cluster.clusterId);
  assert.equal(joined.credentials.rootCAPem, cluster.root.certPem);
  assert.deepEqual(registry.nodes.get(joined.nodeId), {
    nodeId: joined.nodeId,
    role: "worker",
    availability: "active",
  });
  assert.ok(registry.issued.includes(joined.nodeId));
  assert.match(joined.credentials.keyPem, /BEGIN PRIVATE KEY/);
  assert.equal(parseNodeCertificate(joined.credentials.certPem).nodeId, joined.nodeId);
});

test("the manager token gives a manager certificate, with the requested availability", async () => {
  const joined = await joinCluster({
    addr: cluster.addr,
    token: cluster.tokens.manager,
    availability: "drain",
    clock,
  });
  assert.equal(joined.role, "manager");
  assert.equal(registry.nodes.get(joined.nodeId)?.availability, "drain");
});

test("a wrong token is refused and creates no node", async () => {
  const before = registry.nodes.size;
  const wrong = generateJoinToken(cluster.root.certPem, new RandomIds());
  await assert.rejects(
    joinCluster({ addr: cluster.addr, token: wrong, clock }),
    /A valid join token is necessary to join this cluster/,
  );
  assert.equal(registry.nodes.size, before);
});

test("a token pinning another root CA is refused before anything is sent", async () => {
  const other = await createRootCA(clock, new RandomIds());
  const token = generateJoinToken(other.certPem, new RandomIds());
  await assert.rejects(
    joinCluster({ addr: cluster.addr, token, clock }),
    /remote CA does not match fingerprint\. Expected: [0-9a-f]{64}/,
  );
});

test("renewal is authenticated by the current certificate and takes the role from the store", async () => {
  const joined = await joinCluster({ addr: cluster.addr, token: cluster.tokens.worker, clock });
  registry.nodes.set(joined.nodeId, { nodeId: joined.nodeId, role: "manager", availability: "active" });
  const renewed = await renewCertificate({ addr: cluster.addr, credentials: joined.credentials, clock });
  assert.equal(renewed.nodeId, joined.nodeId);
  assert.equal(renewed.role, "manager");
  assert.notEqual(renewed.credentials.keyPem, joined.credentials.keyPem);
  await assert.rejects(callAs(undefined, PATHS.renew, { csr: "x" }), /valid peer certificate/);
  registry.nodes.delete(joined.nodeId);
  await assert.rejects(
    renewCertificate({ addr: cluster.addr, credentials: renewed.credentials, clock }),
    /not found when attempting to renew certificate/,
  );
});

test("a worker certificate cannot call manager-only endpoints; a manager's can", async () => {
  const worker = await cluster.mint("w-only", "worker");
  await assert.rejects(
    callAs(worker, PATHS.logsSubscribe, logsSubscribe),
    /Permission denied: remote certificate not part of OUs: \[swarm-manager\]/,
  );
  const manager = await cluster.mint("m-only", "manager");
  await assert.rejects(callAs(manager, PATHS.logsSubscribe, logsSubscribe), /node x is not connected/);
});

test("certificates of another cluster, or of a removed node, are refused", async () => {
  const otherOrg = await cluster.mint("n-org", "manager", { clusterId: "othercluster" });
  await assert.rejects(
    callAs(otherOrg, PATHS.logsSubscribe, logsSubscribe),
    /remote certificate not part of organization/,
  );
  const foreignRoot = await createRootCA(clock, new RandomIds());
  const foreign = await cluster.mint("n-foreign", "manager", {
    clusterId: cluster.clusterId,
    root: foreignRoot,
  });
  await assert.rejects(callAs(foreign, PATHS.logsSubscribe, logsSubscribe), /valid peer certificate/);
  const gone = await cluster.mint("n-gone", "manager");
  cluster.removed.add("n-gone");
  await assert.rejects(
    callAs(gone, PATHS.logsSubscribe, logsSubscribe),
    /node n-gone was removed from swarm/,
  );
});

test("a client that does not trust the server's root cannot talk to it", async () => {
  const other = await createRootCA(clock, new RandomIds());
  const client = new ClusterApiClient(
    cluster.addr,
    { rootCAPem: other.certPem, servername: MANAGER_OU },
    2000,
  );
  try {
    await assert.rejects(client.call(PATHS.rootCA, undefined, "GET"), /unreachable|closed/);
  } finally {
    client.close();
  }
});

test("a manager that never answers fails the call at its deadline", async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const { port } = silent.address() as AddressInfo;
  const started = Date.now();
  try {
    await assert.rejects(fetchRootCA(`127.0.0.1:${port}`, cluster.tokens.worker, 300), /timed out/);
    assert.ok(Date.now() - started < 3000);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test("during a root rotation joiners get the new key's certificates, trusted through the old root", async () => {
  const newRoot = await createRootCA(clock, new RandomIds());
  const rotating = await startTestCluster({
    registry: new MemoryRegistry(),
    dispatcher: noDispatcher,
    rotatingTo: newRoot,
  });
  try {
    const joined = await joinCluster({ addr: rotating.addr, token: rotating.tokens.worker, clock });
    assert.equal(joined.credentials.certPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
    const renewed = await renewCertificate({ addr: rotating.addr, credentials: joined.credentials, clock });
    assert.equal(renewed.nodeId, joined.nodeId);
  } finally {
    await rotating.stop();
  }
});
