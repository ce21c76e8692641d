/**
 * The cluster API's authorisation matrix: every authenticated route against every kind of bad
 * caller (no certificate, an expired one, a removed node's, one from another cluster's CA or with
 * another cluster ID, a worker's on a manager-only route), and joining with wrong, foreign and
 * rotated tokens. Every call is refused with PermissionDenied (InvalidArgument for tokens, as in
 * Swarm) and nothing reaches the registry, the CA, the membership or the dispatcher.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DispatcherConnector } from "../api/index.ts";
import { RandomIds, ShoalError, SystemClock, unavailable, VirtualClock } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import {
  createNodeKeyAndCSR,
  createRootCA,
  generateJoinToken,
  MANAGER_OU,
  NodeCertSigner,
} from "../ca/index.ts";
import { ClusterApiClient } from "./client.ts";
import type { ManagerMembership } from "./deps.ts";
import { joinCluster } from "./join.ts";
import { type ApiPath, PATHS, ROUTE_ROLES } from "./protocol.ts";
import { MemoryRegistry, startTestCluster, type TestCluster } from "./testing.ts";

const clock = new SystemClock();
const ids = new RandomIds();
const HOUR = 3_600_000;

/** Records every call that got past authorisation. */
const reached: string[] = [];
const dispatcher: DispatcherConnector = {
  openSession: (nodeId) => {
    reached.push(`openSession ${nodeId}`);
    return Promise.reject(unavailable("no dispatcher in this test"));
  },
};
const membership: ManagerMembership = {
  managerAddrs: () => {
    reached.push("managerAddrs");
    return [];
  },
  addManager: async (nodeId) => {
    reached.push(`addManager ${nodeId}`);
    return { initialCluster: "", dataKey: "" };
  },
};

/** A body each route would accept from an authorised caller. */
const BODIES: Record<ApiPath, unknown> = {
  [PATHS.rootCA]: undefined,
  [PATHS.issue]: undefined,
  [PATHS.renew]: { csr: "x" },
  [PATHS.session]: { description: {} },
  [PATHS.heartbeat]: { sessionId: "s" },
  [PATHS.status]: { sessionId: "s", reports: [] },
  [PATHS.logsPublish]: { type: "subscription", subscriptionId: "x" },
  [PATHS.logsSubscribe]: { nodeId: "x", request: { taskIds: [], follow: false, stdout: true, stderr: true } },
  [PATHS.etcdJoin]: { peerUrl: "https://10.0.0.9:2380", addr: "10.0.0.9:2377" },
  [PATHS.managers]: {},
};

const authenticated = (Object.keys(ROUTE_ROLES) as ApiPath[]).filter((p) => ROUTE_ROLES[p] !== undefined);
const managerOnly = authenticated.filter((p) => !ROUTE_ROLES[p]?.includes("worker"));

describe("cluster API authorisation matrix", () => {
  let cluster: TestCluster;
  const registry = new MemoryRegistry();
  const callers = new Map<string, { creds: NodeCredentials | undefined; refusal: RegExp }>();
  let worker: NodeCredentials;

  before(async () => {
    cluster = await startTestCluster({ registry, dispatcher, membership });
    const invalid = /Permission denied: peer didn't not present valid peer certificate/;
    const removed = await cluster.mint("gone", "manager");
    cluster.removed.add("gone");
    const foreignRoot = await createRootCA(clock, ids);
    callers.set("no certificate", { creds: undefined, refusal: invalid });
    callers.set("an expired certificate", { creds: await expired(cluster), refusal: invalid });
    callers.set("a removed node's certificate", {
      creds: removed,
      refusal: /node gone was removed from swarm/,
    });
    callers.set("a certificate from another cluster's CA", {
      creds: await cluster.mint("alien", "manager", { clusterId: cluster.clusterId, root: foreignRoot }),
      refusal: invalid,
    });
    callers.set("a certificate naming another cluster", {
      creds: await cluster.mint("other-org", "manager", { clusterId: "othercluster" }),
      refusal: /remote certificate not part of organization/,
    });
    worker = await cluster.mint("w1", "worker");
  });
  after(() => cluster.stop());

  const call = async (creds: NodeCredentials | undefined, path: ApiPath) => {
    const client = new ClusterApiClient(cluster.addr, {
      rootCAPem: cluster.root.certPem,
      certPem: creds?.certPem,
      keyPem: creds?.keyPem,
      servername: MANAGER_OU,
    });
    try {
      return await client.call(path, BODIES[path]);
    } finally {
      client.close();
    }
  };
  const refused = (code: string, message: RegExp) => (err: unknown) =>
    ShoalError.is(err, code as ShoalError["code"]) && message.test((err as Error).message);
  const unchanged = (nodesBefore: number, issuedBefore: number) => {
    assert.deepEqual(reached, []);
    assert.equal(registry.nodes.size, nodesBefore);
    assert.equal(registry.issued.length, issuedBefore);
    assert.equal(cluster.logs.connected("x"), false);
  };

  test("every authenticated route refuses every bad certificate, and nothing changes", async () => {
    const [nodes, issued] = [registry.nodes.size, registry.issued.length];
    for (const [who, { creds, refusal }] of callers) {
      for (const path of authenticated) {
        await assert.rejects(call(creds, path), refused("PermissionDenied", refusal), `${who} on ${path}`);
      }
    }
    unchanged(nodes, issued);
  });

  test("a worker's certificate is refused on every manager-only route", async () => {
    assert.deepEqual(managerOnly.sort(), [PATHS.etcdJoin, PATHS.logsSubscribe].sort());
    const [nodes, issued] = [registry.nodes.size, registry.issued.length];
    for (const path of managerOnly) {
      await assert.rejects(
        call(worker, path),
        refused("PermissionDenied", /remote certificate not part of OUs: \[swarm-manager\]/),
        path,
      );
    }
    unchanged(nodes, issued);
  });

  test("the same routes answer a valid certificate (the matrix above is not refusing everyone)", async () => {
    const manager = await cluster.mint("m1", "manager");
    await call(manager, PATHS.etcdJoin);
    await call(worker, PATHS.managers);
    assert.deepEqual(reached, ["addManager m1", "managerAddrs"]);
    reached.length = 0;
  });

  test("joining with a wrong, foreign or empty token is refused, and no node or certificate is made", async () => {
    const [nodes, issued] = [registry.nodes.size, registry.issued.length];
    const otherRoot = await createRootCA(clock, ids);
    // The right cluster's digest with another secret, and the right secret under another digest.
    const secret = cluster.tokens.worker.split("-").at(-1) as string;
    const foreignDigest = generateJoinToken(otherRoot.certPem, ids).replace(/-[^-]+$/, `-${secret}`);
    for (const token of [generateJoinToken(cluster.root.certPem, ids), foreignDigest, ""]) {
      await assert.rejects(
        issueDirect(cluster, token),
        refused("InvalidArgument", /^A valid join token is necessary to join this cluster$/),
        token,
      );
    }
    unchanged(nodes, issued);
  });

  test("after a token rotation the old tokens are refused and the new ones work", async () => {
    const old = { ...cluster.tokens };
    cluster.tokens.worker = generateJoinToken(cluster.root.certPem, ids);
    cluster.tokens.manager = generateJoinToken(cluster.root.certPem, ids);
    const [nodes, issued] = [registry.nodes.size, registry.issued.length];
    for (const token of [old.worker, old.manager]) {
      await assert.rejects(
        joinCluster({ addr: cluster.addr, token, clock }),
        refused("InvalidArgument", /A valid join token is necessary to join this cluster/),
      );
    }
    unchanged(nodes, issued);
    const w = await joinCluster({ addr: cluster.addr, token: cluster.tokens.worker, clock });
    const m = await joinCluster({ addr: cluster.addr, token: cluster.tokens.manager, clock });
    assert.deepEqual([w.role, m.role], ["worker", "manager"]);
    assert.equal(registry.nodes.size, nodes + 2);
  });
});

/** A manager certificate of this cluster that expired an hour ago. */
async function expired(cluster: TestCluster): Promise<NodeCredentials> {
  const past = new VirtualClock(Date.now() - 2 * HOUR);
  const signer = await NodeCertSigner.create(
    { signingCertPem: cluster.root.certPem, signingKeyPem: cluster.root.keyPem },
    { clock: past, ids, certExpiryMs: HOUR },
  );
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const certPem = await signer.sign(csrPem, { nodeId: "old", role: "manager", clusterId: cluster.clusterId });
  return { certPem, keyPem, rootCAPem: cluster.root.certPem };
}

/** The issue call as a joiner makes it, without the client-side check of the token's digest. */
async function issueDirect(cluster: TestCluster, token: string): Promise<unknown> {
  const { csrPem } = await createNodeKeyAndCSR();
  const client = new ClusterApiClient(cluster.addr, {
    rootCAPem: cluster.root.certPem,
    servername: "swarm-ca",
  });
  try {
    return await client.call(PATHS.issue, { token, csr: csrPem });
  } finally {
    client.close();
  }
}
