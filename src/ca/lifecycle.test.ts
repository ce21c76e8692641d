import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SeededIds } from "../base/index.ts";
import {
  blacklistEntry,
  isBlacklisted,
  loadNodeCredentials,
  pruneBlacklist,
  randomFraction,
  renewalDelayMs,
  saveNodeCredentials,
} from "./index.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

test("renewal happens between 50% and 80% of the validity, in whole minutes", () => {
  const validity = { notBefore: 0, notAfter: 100 * HOUR };
  assert.equal(renewalDelayMs(validity, 0, 0), 50 * HOUR);
  assert.equal(renewalDelayMs(validity, 0, 0.999999), 80 * HOUR - 60_000);
  assert.equal(renewalDelayMs(validity, 10 * HOUR, 0.5), 55 * HOUR);
  assert.equal(renewalDelayMs(validity, 90 * HOUR, 0.5), 0);
  const ids = new SeededIds(5);
  for (let i = 0; i < 100; i++) {
    const f = randomFraction(ids);
    assert.ok(f >= 0 && f < 1);
    const d = renewalDelayMs(validity, 0, f);
    assert.ok(d >= 50 * HOUR && d < 80 * HOUR);
  }
});

test("a removed node stays blacklisted until a week after its certificate expired", () => {
  const expiry = Date.UTC(2026, 0, 10);
  const list = { gone: blacklistEntry(expiry), unknown: blacklistEntry(undefined) };
  assert.ok(isBlacklisted(list, "gone"));
  assert.ok(!isBlacklisted(list, "other"));
  assert.ok(!isBlacklisted(undefined, "gone"));
  assert.deepEqual(Object.keys(pruneBlacklist(list, expiry + 6 * DAY)), ["gone", "unknown"]);
  assert.deepEqual(Object.keys(pruneBlacklist(list, expiry + 7 * DAY)), ["unknown"]);
});

test("node credentials round-trip on disk with the key readable by its owner only", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-ca-"));
  try {
    assert.equal(await loadNodeCredentials(dir), undefined);
    const creds = { certPem: "CERT\n", keyPem: "KEY\n", rootCAPem: "ROOT\n" };
    await saveNodeCredentials(dir, creds);
    assert.deepEqual(await loadNodeCredentials(dir), creds);
    const key = await stat(join(dir, "certificates", "swarm-node.key"));
    assert.equal(key.mode & 0o777, 0o600);
    const crt = await stat(join(dir, "certificates", "swarm-node.crt"));
    assert.ok(crt.isFile());
    assert.ok((await stat(join(dir, "certificates", "swarm-root-ca.crt"))).isFile());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
