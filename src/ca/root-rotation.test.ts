import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import type { Cluster } from "../api/index.ts";
import { SeededIds, SystemClock, VirtualClock } from "../base/index.ts";
import { rootCAStateOf, withRootCAState } from "./cluster-ca.ts";
import {
  createNodeKeyAndCSR,
  NodeCertSigner,
  parseJoinToken,
  tokenMatchesRoot,
  verifyNodeCertificate,
} from "./index.ts";
import { finishRotation, nextRootCAState, type RootCAState, signingMaterialOf } from "./root-rotation.ts";
import { createRootCA } from "./rootca.ts";
import { clusterTlsInfo, hasIssuer, nodeTlsInfo, samePem } from "./tls-info.ts";

const clock = new SystemClock();
const ids = new SeededIds(11);

async function initial(): Promise<RootCAState> {
  const root = await createRootCA(clock, ids);
  return { certPem: root.certPem, keyPem: root.keyPem, lastForcedRotation: 0 };
}

async function issue(state: RootCAState, nodeId = "n1"): Promise<string> {
  const signer = await NodeCertSigner.create(signingMaterialOf(state), { clock, ids });
  const { csrPem } = await createNodeKeyAndCSR();
  return signer.sign(csrPem, { nodeId, role: "worker", clusterId: "c1" });
}

const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => re.test(e.message));

describe("nextRootCAState", () => {
  test("an unchanged ForceRotate changes nothing", async () => {
    const s = await initial();
    assert.equal(await nextRootCAState(s, { ForceRotate: 0 }, clock, ids), s);
  });

  test("a new ForceRotate starts a rotation to a fresh root, cross-signed by the old one", async () => {
    const s = await initial();
    const next = await nextRootCAState(s, { ForceRotate: 1 }, clock, ids);
    assert.ok(next.rotation);
    assert.equal(next.certPem, s.certPem, "the trust root stays until every node converged");
    assert.equal(next.lastForcedRotation, 1);
    const chain = await issue(next);
    // The rotated chain verifies against the old root (through the cross-signed certificate).
    assert.equal((await verifyNodeCertificate(chain, s.certPem, clock.now())).nodeId, "n1");
    const wanted = clusterTlsInfo(next.certPem, next.rotation.CACert);
    assert.ok(hasIssuer(nodeTlsInfo(chain, s.certPem), wanted), "a renewed node has the wanted issuer");
    assert.ok(!hasIssuer(nodeTlsInfo(await issue(s), s.certPem), wanted), "an old certificate does not");
  });

  test("finishing swaps the root; later certificates verify against both roots", async () => {
    const s = await initial();
    const rotating = await nextRootCAState(s, { ForceRotate: 1 }, clock, ids);
    const done = finishRotation(rotating);
    assert.equal(done.certPem, rotating.rotation?.CACert);
    assert.equal(done.rotation, undefined);
    const chain = await issue(done);
    await verifyNodeCertificate(chain, done.certPem, clock.now());
    await verifyNodeCertificate(chain, s.certPem, clock.now());
    assert.ok(hasIssuer(nodeTlsInfo(chain, done.certPem), clusterTlsInfo(done.certPem)));
  });

  test("a rotation started during another one replaces it, cross-signed by the current root", async () => {
    const s = await initial();
    const first = await nextRootCAState(s, { ForceRotate: 1 }, clock, ids);
    const second = await nextRootCAState(first, { ForceRotate: 2 }, clock, ids);
    assert.notEqual(second.rotation?.CACert, first.rotation?.CACert);
    await verifyNodeCertificate(await issue(second), s.certPem, clock.now());
  });

  test("a given certificate and key start a rotation to them; SEC1 keys are accepted", async () => {
    const s = await initial();
    const mine = await createRootCA(clock, ids);
    const sec1 = createPrivateKey(mine.keyPem).export({ type: "sec1", format: "pem" }).toString();
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    const next = await nextRootCAState(s, { SigningCACert: mine.certPem, SigningCAKey: sec1 }, clock, ids);
    assert.ok(samePem(next.rotation?.CACert ?? "", mine.certPem));
    assert.match(next.rotation?.CAKey ?? "", /BEGIN PRIVATE KEY/);
    assert.equal(next.lastForcedRotation, 0);
    // The same certificate again only replaces the key; the current root aborts the rotation.
    const again = await nextRootCAState(
      next,
      { SigningCACert: mine.certPem, SigningCAKey: mine.keyPem },
      clock,
      ids,
    );
    assert.equal(again.rotation?.CrossSignedCACert, next.rotation?.CrossSignedCACert);
    const aborted = await nextRootCAState(
      next,
      { SigningCACert: s.certPem, SigningCAKey: s.keyPem },
      clock,
      ids,
    );
    assert.equal(aborted.rotation, undefined);
    assert.equal(aborted.certPem, s.certPem);
  });

  test("bad certificates and keys get Swarm's messages", async () => {
    const s = await initial();
    const mine = await createRootCA(clock, ids);
    const other = await createRootCA(clock, ids);
    const req = (SigningCACert: string, SigningCAKey: string) =>
      nextRootCAState(s, { SigningCACert, SigningCAKey }, clock, ids);
    await rejects(
      nextRootCAState(s, { SigningCAKey: mine.keyPem }, clock, ids),
      /^if a signing CA key is provided, the signing CA cert must also be provided$/,
    );
    await rejects(
      nextRootCAState(s, { SigningCACert: mine.certPem }, clock, ids),
      /^there must be at least one valid, reachable external CA corresponding to the desired CA certificate$/,
    );
    await rejects(req(mine.certPem, other.keyPem), /^certificate key mismatch$/);
    await rejects(req(mine.certPem + other.certPem, mine.keyPem), /cannot contain multiple certificates/);
    await rejects(req(mine.certPem, "garbage"), /^malformed private key/);
    await rejects(req("garbage", mine.keyPem), /^no valid root CA certificates found$/);
    const leaf = `${(await issue(s)).split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;
    await rejects(req(leaf, mine.keyPem), /error while validating Root CA Certificate/);
    const old = await createRootCA(new VirtualClock(clock.now() - 19.5 * 365 * 24 * 3600 * 1000), ids);
    await rejects(req(old.certPem, old.keyPem), /^CA certificate expires too soon$/);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    await rejects(
      req(mine.certPem, rsa.toString()),
      /not implemented yet: root CA keys other than ECDSA P-256/,
    );
  });

  test("rotating to a certificate with the current key is refused", async () => {
    const s = await initial();
    const { x509 } = await import("./x509.ts");
    // A second self-signed certificate for the current key (a re-issued root).
    const key = await (await import("./keys.ts")).importSigningKey(s.keyPem);
    const pub = new x509.X509Certificate(s.certPem).publicKey;
    const reissued = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "0badc0de",
      name: "CN=swarm-ca",
      notBefore: new Date(clock.now() - 1000),
      notAfter: new Date(clock.now() + 5 * 365 * 24 * 3600 * 1000),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      keys: { privateKey: key, publicKey: await pub.export() },
      extensions: [new x509.BasicConstraintsExtension(true, 1, true)],
    });
    await rejects(
      nextRootCAState(s, { SigningCACert: reissued.toString("pem"), SigningCAKey: s.keyPem }, clock, ids),
      /^Cannot update to a cert with an identical key$/,
    );
  });
});

describe("cluster object", () => {
  test("a rotation shows as in progress with the new issuer; finishing changes the join tokens", async () => {
    const s = await initial();
    const cluster: Cluster = {
      ID: "c1",
      TLSInfo: clusterTlsInfo(s.certPem),
      JoinTokens: { Worker: "w", Manager: "m" },
      Shoal: { RootCAKey: s.keyPem, UnlockKey: "keep" },
    };
    assert.deepEqual(rootCAStateOf(cluster), s);
    const rotating = await nextRootCAState(s, { ForceRotate: 3 }, clock, ids);
    const c2 = withRootCAState(cluster, rotating, ids);
    assert.equal(c2.RootRotationInProgress, true);
    assert.equal(c2.TLSInfo?.TrustRoot, s.certPem);
    assert.deepEqual(c2.TLSInfo, clusterTlsInfo(s.certPem, rotating.rotation?.CACert));
    assert.deepEqual(c2.JoinTokens, cluster.JoinTokens, "tokens stay during the rotation");
    assert.equal(c2.Shoal?.UnlockKey, "keep");
    assert.equal(c2.Shoal?.LastForcedRotation, 3);
    const c3 = withRootCAState(c2, finishRotation(rootCAStateOf(c2)), ids);
    assert.equal(c3.RootRotationInProgress, false);
    assert.equal(c3.Shoal?.RootRotation, undefined);
    const newRoot = rotating.rotation?.CACert ?? "";
    assert.equal(c3.TLSInfo?.TrustRoot, newRoot);
    for (const t of [c3.JoinTokens?.Worker, c3.JoinTokens?.Manager]) {
      assert.ok(tokenMatchesRoot(parseJoinToken(t ?? ""), newRoot));
    }
  });
});
