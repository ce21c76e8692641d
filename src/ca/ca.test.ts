import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededIds, VirtualClock } from "../base/index.ts";
import { createRootCA, generateJoinToken, parseJoinToken, tlsInfoOf, tokenMatchesRoot } from "./index.ts";
import { x509 } from "./x509.ts";

test("root CA is a P-256 self-signed CA named swarm-ca, valid 20 years", async () => {
  const clock = new VirtualClock();
  const ca = await createRootCA(clock, new SeededIds(7));
  const cert = new x509.X509Certificate(ca.certPem);
  assert.equal(cert.subject, "CN=swarm-ca");
  assert.equal(cert.issuer, "CN=swarm-ca");
  assert.ok(await cert.isSelfSigned());
  const years = (cert.notAfter.getTime() - clock.now()) / (365 * 24 * 3600 * 1000);
  assert.ok(years > 19.9 && years < 20.1, `validity ${years} years`);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  const info = tlsInfoOf(ca.certPem);
  assert.equal(info.TrustRoot, ca.certPem);
  assert.ok(info.CertIssuerSubject.length > 0 && info.CertIssuerPublicKey.length > 0);
});

test("join tokens have Swarm's shape and pin the root", async () => {
  const ids = new SeededIds(3);
  const ca = await createRootCA(new VirtualClock(), ids);
  const other = await createRootCA(new VirtualClock(), ids);
  const token = generateJoinToken(ca.certPem, ids);
  assert.match(token, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  const parsed = parseJoinToken(token);
  assert.ok(tokenMatchesRoot(parsed, ca.certPem));
  assert.ok(!tokenMatchesRoot(parsed, other.certPem));
  assert.notEqual(generateJoinToken(ca.certPem, ids), token);
  assert.throws(() => parseJoinToken("SWMTKN-1-abc-def"), /invalid join token/);
});
