import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPrefix, parseCidr, parseIp, parsePrefix, prefixesOverlap } from "../common/cidr.ts";
import { IdSpace } from "./idspace.ts";

test("serial allocation: after the last one handed out, wrapping; freed IDs are not reused at once", () => {
  const s = new IdSpace(10, 13);
  assert.equal(s.next("a"), 10);
  assert.equal(s.next("b"), 11);
  s.release(10, "a");
  assert.equal(s.next("c"), 12);
  assert.equal(s.next("d"), 13);
  assert.equal(s.next("e"), 10, "wraps to the freed one");
  assert.equal(s.next("f"), undefined, "full");
  assert.equal(s.reserve(11, "b"), true, "the holder may reserve again");
  assert.equal(s.reserve(11, "x"), false);
  s.release(11, "x");
  assert.equal(s.owner(11), "b", "only the holder releases");
});

test("sub-range search and resuming after the highest used ID", () => {
  const s = new IdSpace(1, 65535);
  s.reserve(30005, "svc");
  s.resumeAfterHighest(30000, 32767);
  assert.equal(s.next("x", 30000, 32767), 30006);
});

test("cidr helpers", () => {
  assert.equal(parseIp("10.0.1.5"), 0x0a000105);
  assert.equal(parseIp("10.0.1.256"), undefined);
  assert.deepEqual(parseCidr("10.0.1.5/24"), { ip: 0x0a000105, bits: 24 });
  assert.equal(formatPrefix(parsePrefix("10.0.1.5/24") ?? { base: 0, bits: 0 }), "10.0.1.0/24");
  const a = parsePrefix("10.20.0.0/16");
  const b = parsePrefix("10.20.5.0/24");
  const c = parsePrefix("10.21.0.0/24");
  assert.ok(a && b && c);
  assert.ok(prefixesOverlap(a, b));
  assert.ok(!prefixesOverlap(a, c));
});
