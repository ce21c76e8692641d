import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DATA_KEY_BYTES, DataCipher, loadOrCreateDataKey } from "./encryption.ts";

test("seal/open round trip, fresh nonce each time, bound to associated data", () => {
  const c = new DataCipher(Buffer.alloc(DATA_KEY_BYTES, 7));
  const a = c.seal(Buffer.from("hello secret"), Buffer.from("/k1"));
  const b = c.seal(Buffer.from("hello secret"), Buffer.from("/k1"));
  assert.notDeepEqual(a, b);
  assert.equal(a[0], 1);
  assert.ok(!a.includes(Buffer.from("hello secret")));
  assert.equal(c.open(a, Buffer.from("/k1")).toString(), "hello secret");
  assert.throws(() => c.open(a, Buffer.from("/k2")), /cannot decrypt/);
  assert.throws(
    () => new DataCipher(Buffer.alloc(DATA_KEY_BYTES, 8)).open(a, Buffer.from("/k1")),
    /cannot decrypt/,
  );
  const tampered = Buffer.from(a);
  tampered[20] = (tampered[20] ?? 0) ^ 1;
  assert.throws(() => c.open(tampered, Buffer.from("/k1")), /cannot decrypt/);
  assert.throws(() => c.open(Buffer.of(9, 1, 2), Buffer.from("/k1")), /unknown sealed value format/);
});

test("loadOrCreateDataKey creates a 0600 key once and reloads it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-key-"));
  try {
    const k1 = await loadOrCreateDataKey(join(dir, "sub"));
    assert.equal(k1.length, DATA_KEY_BYTES);
    assert.equal((await stat(join(dir, "sub", "data.key"))).mode & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateDataKey(join(dir, "sub")), k1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
