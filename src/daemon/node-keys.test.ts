import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { credentialPaths, type NodeCredentials } from "../ca/index.ts";
import { NodeKeys } from "./node-keys.ts";

const credentials = (): NodeCredentials => ({
  certPem: "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n",
  keyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString(),
  rootCAPem: "-----BEGIN CERTIFICATE-----\ncm9vdA==\n-----END CERTIFICATE-----\n",
});

describe("NodeKeys", () => {
  let root: string;
  let dir: string;
  let live: string;
  const fresh = () => new NodeKeys(dir, live);
  const keyFile = () => readFileSync(credentialPaths(dir).key, "utf8");
  const dataFile = () => readFileSync(join(dir, "keys", "data.key"));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "shoal-keys-"));
    dir = join(root, "swarm");
    live = join(root, "live");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("without a KEK both keys are plain and the node is not locked", async () => {
    const keys = fresh();
    const creds = credentials();
    await keys.saveCredentials(creds);
    const data = randomBytes(32);
    await keys.dataKeys().save(data);
    assert.equal(keyFile(), creds.keyPem);
    assert.deepEqual(dataFile(), data);
    assert.equal(statSync(join(dir, "keys", "data.key")).mode & 0o777, 0o600);
    assert.equal(await fresh().isLocked(), false);
    assert.deepEqual(await fresh().credentials(), creds);
  });

  test("with a KEK nothing plain is on disk; a restarted node is locked until the right key", async () => {
    const keys = fresh();
    const kek = randomBytes(32);
    await keys.setKek(kek);
    const creds = credentials();
    await keys.saveCredentials(creds);
    const data = randomBytes(32);
    await keys.dataKeys().save(data);
    assert.ok(keyFile().startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert.ok(!dataFile().includes(data));

    const restarted = fresh();
    assert.equal(await restarted.isLocked(), true);
    await assert.rejects(restarted.credentials(), /locked/);
    await assert.rejects(restarted.dataKeys().load(), /locked/);
    assert.equal(await restarted.unlock(randomBytes(32)), false);
    assert.equal(await restarted.isLocked(), true);
    assert.equal(await restarted.unlock(kek), true);
    assert.equal(await restarted.isLocked(), false);
    assert.deepEqual(await restarted.credentials(), creds);
    assert.deepEqual(await restarted.dataKeys().load(), data);
  });

  test("rotation rewraps both keys: the old KEK no longer opens them; no KEK makes them plain", async () => {
    const keys = fresh();
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    await keys.setKek(k1);
    const creds = credentials();
    await keys.saveCredentials(creds);
    await keys.dataKeys().save(randomBytes(32));
    await keys.setKek(k2);
    assert.equal(await fresh().unlock(k1), false);
    assert.equal(await fresh().unlock(k2), true);
    await keys.setKek(undefined);
    assert.equal(keyFile(), creds.keyPem);
    assert.equal(dataFile().length, 32);
    assert.equal(await fresh().isLocked(), false);
  });

  test("a rewrap cut short by a crash still opens with the new key, and unlock finishes it", async () => {
    const keys = fresh();
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    await keys.setKek(k1);
    const creds = credentials();
    await keys.saveCredentials(creds);
    const data = randomBytes(32);
    await keys.dataKeys().save(data);
    const wrappedK1 = keyFile();
    // Rewrap to k2, then put back the TLS key's old file and leave its new one pending: the state
    // a crash between the two renames leaves.
    await keys.setKek(k2);
    const path = credentialPaths(dir).key;
    await rename(path, `${path}.pending`);
    writeFileSync(path, wrappedK1);
    assert.equal(await fresh().unlock(k1), false, "the data key is already under k2");
    const restarted = fresh();
    assert.equal(await restarted.unlock(k2), true);
    assert.ok(!existsSync(`${path}.pending`));
    assert.deepEqual(await restarted.credentials(), creds);
    assert.deepEqual(await restarted.dataKeys().load(), data);
  });

  test("the live pair for etcd is plain, follows saved credentials, and goes with closeLive", async () => {
    const keys = fresh();
    await keys.setKek(randomBytes(32));
    const first = credentials();
    await keys.saveCredentials(first);
    const files = await keys.openLive(first);
    assert.equal(readFileSync(files.keyFile, "utf8"), first.keyPem);
    assert.equal(statSync(files.keyFile).mode & 0o777, 0o600);
    const renewed = credentials();
    await keys.saveCredentials(renewed);
    assert.equal(readFileSync(files.keyFile, "utf8"), renewed.keyPem);
    assert.equal(readFileSync(files.certFile, "utf8"), renewed.certPem);
    await keys.closeLive();
    assert.ok(!existsSync(live));
    await keys.saveCredentials(first);
    assert.ok(!existsSync(live), "no live copy once closed");
  });
});
