import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { test } from "node:test";
import { SeededIds, ShoalError } from "../base/index.ts";
import {
  formatUnlockKey,
  isWrappedPrivateKey,
  parseUnlockKey,
  unwrapPrivateKey,
  wrapPrivateKey,
} from "./kek.ts";
import { generateUnlockKey } from "./tokens.ts";

const plainKey = (): string =>
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();

test("an unlock key is SWMKEY-1- and 32 bytes of unpadded base64, and parses back", () => {
  const text = generateUnlockKey(new SeededIds(3));
  assert.match(text, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/);
  const kek = parseUnlockKey(text);
  assert.equal(kek.length, 32);
  assert.equal(formatUnlockKey(kek), text);
});

test("malformed unlock keys get SwarmKit's 'invalid key string'", () => {
  for (const bad of [
    "",
    "wrong",
    "SWMKEY-1-",
    "SWMKEY-2-abcd",
    "SWMKEY-1-ab$d",
    "swmkey-1-abcd",
    "SWMKEY-1-a",
  ]) {
    assert.throws(
      () => parseUnlockKey(bad),
      (err: unknown) => ShoalError.is(err, "InvalidArgument") && err.message === "invalid key string",
      bad,
    );
  }
});

test("a wrapped TLS key opens with its KEK only, back to the same key", () => {
  const pem = plainKey();
  const kek = randomBytes(32);
  const wrapped = wrapPrivateKey(pem, kek);
  assert.ok(isWrappedPrivateKey(wrapped));
  assert.ok(!isWrappedPrivateKey(pem));
  assert.ok(!wrapped.includes(pem.split("\n")[1] ?? "?"));
  assert.equal(unwrapPrivateKey(wrapped, kek), pem);
  assert.equal(unwrapPrivateKey(wrapped, randomBytes(32)), undefined);
  assert.equal(unwrapPrivateKey(wrapped, kek.subarray(0, 16)), undefined);
  assert.equal(unwrapPrivateKey(pem, kek), undefined, "a plain key is not wrapped by any KEK");
});
