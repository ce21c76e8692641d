import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededIds, VirtualClock } from "../base/index.ts";
import {
  authorizeNode,
  createNodeKeyAndCSR,
  createRootCA,
  NodeCertSigner,
  nodeCertExpiryMs,
  parseNodeCertificate,
  verifyNodeCertificate,
} from "./index.ts";
import { x509 } from "./x509.ts";

const HOUR = 3600_000;

async function setup(certExpiryMs?: number) {
  const clock = new VirtualClock();
  const ids = new SeededIds(11);
  const root = await createRootCA(clock, ids);
  const signer = await NodeCertSigner.create(
    { signingCertPem: root.certPem, signingKeyPem: root.keyPem },
    { clock, ids, certExpiryMs },
  );
  return { clock, ids, root, signer };
}

test("a signed node certificate names the node, role and cluster, backdated one hour, 90 days", async () => {
  const { clock, root, signer } = await setup();
  const { csrPem, keyPem } = await createNodeKeyAndCSR();
  assert.match(keyPem, /BEGIN PRIVATE KEY/);
  const pem = await signer.sign(csrPem, { nodeId: "node1", role: "manager", clusterId: "cluster1" });
  const cert = new x509.X509Certificate(pem);
  assert.equal(cert.subjectName.getField("CN")[0], "node1");
  assert.equal(cert.subjectName.getField("OU")[0], "swarm-manager");
  assert.equal(cert.subjectName.getField("O")[0], "cluster1");
  assert.equal(cert.issuer, "CN=swarm-ca");
  assert.equal(cert.notBefore.getTime(), clock.now() - HOUR);
  assert.equal(cert.notAfter.getTime(), clock.now() + 2160 * HOUR);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  assert.deepEqual(
    san?.names.items.map((n) => n.value),
    ["swarm-manager", "node1", "swarm-ca"],
  );
  assert.ok(
    await cert.verify({
      publicKey: new x509.X509Certificate(root.certPem).publicKey,
      date: new Date(clock.now()),
    }),
  );
  const worker = parseNodeCertificate(
    await signer.sign(csrPem, { nodeId: "w1", role: "worker", clusterId: "cluster1" }),
  );
  assert.equal(worker.role, "worker");
});

test("node certificate expiry comes from CAConfig.NodeCertExpiry, at least one hour", async () => {
  assert.equal(nodeCertExpiryMs(undefined), 2160 * HOUR);
  assert.equal(nodeCertExpiryMs(2 * HOUR * 1e6), 2 * HOUR);
  assert.throws(() => nodeCertExpiryMs(59 * 60_000 * 1e6), /minimum certificate expiry time is: 1h0m0s/);
  const { clock, signer } = await setup(2 * HOUR);
  const { csrPem } = await createNodeKeyAndCSR();
  const info = parseNodeCertificate(
    await signer.sign(csrPem, { nodeId: "n", role: "worker", clusterId: "c" }),
  );
  assert.equal(info.notAfter, clock.now() + 2 * HOUR);
});

test("a CSR with a bad signature or a forged subject field is refused", async () => {
  const { signer } = await setup();
  const { csrPem } = await createNodeKeyAndCSR();
  await assert.rejects(
    signer.sign("garbage", { nodeId: "n", role: "worker", clusterId: "c" }),
    /invalid CSR/,
  );
  await assert.rejects(
    signer.sign(csrPem, { nodeId: "n, O=other", role: "worker", clusterId: "c" }),
    /invalid certificate subject/,
  );
});

test("verification accepts the cluster's certificates only, while valid", async () => {
  const { clock, ids, root, signer } = await setup(2 * HOUR);
  const other = await createRootCA(clock, ids);
  const { csrPem } = await createNodeKeyAndCSR();
  const pem = await signer.sign(csrPem, { nodeId: "n1", role: "worker", clusterId: "c1" });
  const who = await verifyNodeCertificate(pem, root.certPem, clock.now());
  assert.deepEqual([who.nodeId, who.role, who.clusterId], ["n1", "worker", "c1"]);
  await assert.rejects(verifyNodeCertificate(pem, other.certPem, clock.now()), /does not chain/);
  await assert.rejects(verifyNodeCertificate(pem, root.certPem, clock.now() + 3 * HOUR), /expired/);
});

test("authorization: organization, role and removal, with SwarmKit's messages", () => {
  const policy = { clusterId: "c1", roles: ["manager"] as const, isRemoved: (id: string) => id === "gone" };
  const mgr = { nodeId: "m", role: "manager" as const, clusterId: "c1" };
  assert.equal(authorizeNode(mgr, policy), mgr);
  assert.throws(
    () => authorizeNode({ ...mgr, role: "worker" }, policy),
    /Permission denied: remote certificate not part of OUs: \[swarm-manager\]/,
  );
  assert.throws(
    () => authorizeNode({ ...mgr, clusterId: "c2" }, policy),
    /remote certificate not part of organization: c1/,
  );
  assert.throws(() => authorizeNode({ ...mgr, nodeId: "gone" }, policy), /node gone was removed from swarm/);
  assert.throws(() => authorizeNode(undefined, policy), /valid peer certificate/);
});
