import assert from "node:assert/strict";
import { test } from "node:test";
import { formatGoDuration, parseGoDuration } from "./duration.ts";

test("Go durations parse to nanoseconds", () => {
  const cases: Array<[string, number]> = [
    ["0", 0],
    ["5s", 5e9],
    ["500ms", 5e8],
    ["1m30s", 90e9],
    ["1.5s", 1.5e9],
    [".5s", 5e8],
    ["2h", 7200e9],
    ["10us", 1e4],
    ["10µs", 1e4],
    ["+3s", 3e9],
    ["-3s", -3e9],
  ];
  for (const [text, ns] of cases) assert.equal(parseGoDuration(text), ns, text);
});

test("bad durations give Go's messages", () => {
  assert.throws(() => parseGoDuration(""), { message: 'time: invalid duration ""' });
  assert.throws(() => parseGoDuration("abc"), { message: 'time: invalid duration "abc"' });
  assert.throws(() => parseGoDuration("5"), { message: 'time: missing unit in duration "5"' });
  assert.throws(() => parseGoDuration("5x"), { message: 'time: unknown unit "x" in duration "5x"' });
  assert.throws(() => parseGoDuration("5 s"), { message: 'time: unknown unit " s" in duration "5 s"' });
  assert.throws(() => parseGoDuration("-"), { message: 'time: invalid duration "-"' });
});

test("durations print as Go prints them", () => {
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(2e9), "2s");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
  assert.equal(formatGoDuration(90e9), "1m30s");
  assert.equal(formatGoDuration(3600e9), "1h0m0s");
  assert.equal(formatGoDuration(5e8), "500ms");
});
