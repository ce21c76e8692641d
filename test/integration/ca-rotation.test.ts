/**
 * Issue #5: root CA rotation on one node, with the real docker CLI. `docker swarm ca --rotate`
 * waits for the rotation to converge (it reads RootRotationInProgress and every node's TLSInfo)
 * and prints the new root; join tokens change; the node's files hold the new root; a service keeps
 * its containers; `--cert-expiry` sets the lifetime of certificates issued from then on; a given
 * root is checked (key mismatch refused) and then used.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ShoalDaemon, waitFor } from "../helpers/shoal.ts";

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], {
    cwd: new URL("../..", import.meta.url).pathname,
    stdio: "inherit",
  });
});

describe("swarm ca --rotate on one node", () => {
  const daemon = new ShoalDaemon();
  const files = mkdtempSync(join(tmpdir(), "shoal-ca-"));
  let nodeId = "";
  before(async () => {
    await daemon.start();
    const init = await daemon.init();
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await daemon.docker(["service", "rm", "keep"]);
    // The shared dockerd keeps stopped task containers: remove this node's.
    const left = await daemon.docker(["ps", "-aq", "--filter", `label=com.docker.swarm.node.id=${nodeId}`]);
    const ids = left.stdout.split("\n").filter(Boolean);
    if (nodeId && ids.length > 0) await daemon.docker(["rm", "-f", ...ids]);
    await daemon.dispose();
    rmSync(files, { recursive: true, force: true });
  });

  const ok = async (args: string[]) => {
    const r = await daemon.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}\n${daemon.log().slice(-3000)}`);
    return r.stdout;
  };
  const certFile = () => join(daemon.dataDir, "swarm", "certificates", "swarm-node.crt");
  const rootFile = () => join(daemon.dataDir, "swarm", "certificates", "swarm-root-ca.crt");
  const leafValidityHours = () => {
    const leaf = new X509Certificate(readFileSync(certFile()));
    return (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 3_600_000;
  };
  // This node's task containers only: the machine's dockerd is shared with other tests.
  const containers = async () =>
    (
      await ok([
        "ps",
        "-q",
        "--filter",
        "label=com.docker.swarm.service.name=keep",
        "--filter",
        `label=com.docker.swarm.node.id=${nodeId}`,
      ])
    ).trim();

  test("rotate: progress until every node converged, then the new root; tokens change", async () => {
    nodeId = (await ok(["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    await ok(["service", "create", "-d", "--name", "keep", "busybox:local", "sleep", "1d"]);
    const running = await waitFor("keep running", async () => (await containers()) || undefined, 60_000);
    const oldRoot = (await ok(["swarm", "ca"])).trim();
    const oldToken = (await ok(["swarm", "join-token", "-q", "worker"])).trim();
    const r = await daemon.docker(["swarm", "ca", "--rotate"]);
    assert.equal(r.code, 0, `${r.stderr}\n${daemon.log().slice(-3000)}`);
    assert.match(r.stdout, /rotated TLS certificates/);
    assert.match(r.stdout, /rotated CA certificates/);
    const printed = r.stdout.slice(r.stdout.indexOf("-----BEGIN CERTIFICATE-----")).trim();
    assert.match(printed, /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----$/);
    assert.notEqual(printed, oldRoot);
    assert.equal((await ok(["swarm", "ca"])).trim(), printed);
    const info = JSON.parse(await ok(["info", "--format", "{{json .Swarm.Cluster}}"]));
    assert.equal(info.RootRotationInProgress, false);
    const tls = JSON.parse(
      await ok(["node", "inspect", "self", "--format", "{{json .Description.TLSInfo}}"]),
    );
    assert.equal(tls.TrustRoot.trim(), printed);
    assert.equal(tls.CertIssuerPublicKey, info.TLSInfo.CertIssuerPublicKey);
    assert.equal(readFileSync(rootFile(), "utf8").trim(), printed);
    const newToken = (await ok(["swarm", "join-token", "-q", "worker"])).trim();
    assert.notEqual(newToken, oldToken);
    assert.equal(newToken.split("-")[2] === oldToken.split("-")[2], false, "the root digest changed");
    assert.equal(await containers(), running, "the service's container was not restarted");
  });

  test("--cert-expiry applies to certificates issued from then on", async () => {
    assert.ok(leafValidityHours() > 2000, `default ~90 days, got ${leafValidityHours()} h`);
    await ok(["swarm", "update", "--cert-expiry", "48h"]);
    assert.equal(
      (await ok(["info", "--format", "{{.Swarm.Cluster.Spec.CAConfig.NodeCertExpiry}}"])).trim(),
      "48h0m0s",
    );
    // A rotation renews every certificate: the new one lives 48 h (plus Swarm's 1 h backdate).
    await ok(["swarm", "ca", "--rotate", "-q"]);
    assert.equal(leafValidityHours(), 49);
    await ok(["swarm", "ca", "--rotate", "-q", "--cert-expiry", "3h"]);
    assert.equal(leafValidityHours(), 4);
  });

  test("a given root: a key that does not match is refused; a matching pair is rotated to", async () => {
    const key = join(files, "ca.key");
    const cert = join(files, "ca.crt");
    const other = join(files, "other.key");
    const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", other]);
    openssl(["req", "-x509", "-new", "-key", key, "-subj", "/CN=my-root", "-days", "3650", "-out", cert]);
    const bad = await daemon.docker(["swarm", "ca", "--rotate", "--ca-cert", cert, "--ca-key", other]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /rpc error: code = InvalidArgument desc = certificate key mismatch/);
    const good = await daemon.docker(["swarm", "ca", "--rotate", "--ca-cert", cert, "--ca-key", key]);
    assert.equal(good.code, 0, good.stderr);
    const mine = readFileSync(cert, "utf8").trim();
    assert.equal((await ok(["swarm", "ca"])).trim(), mine);
    assert.equal(readFileSync(rootFile(), "utf8").trim(), mine);
    const swarm = JSON.parse(await ok(["info", "--format", "{{json .Swarm.Cluster.Spec.CAConfig}}"]));
    assert.equal(swarm.SigningCACert, undefined, "the signing cert is not kept in the spec");
    assert.equal(JSON.stringify(swarm).includes("PRIVATE KEY"), false);
  });
});
