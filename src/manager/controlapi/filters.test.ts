import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { labelFilterMap, matchesLabels, matchesPrefix, validateFilterKeys } from "./filters.ts";
import { resolveObject } from "./resolve.ts";
import { rejects } from "./test-support.ts";

test("label filters: key present, key=value exact, key= same as key, all must hold", () => {
  const labels = { a: "1", b: "" };
  const cases: Array<[string[], boolean]> = [
    [[], true],
    [["a"], true],
    [["a=1"], true],
    [["a=2"], false],
    [["a="], true],
    [["b"], true],
    [["c"], false],
    [["a=1", "b"], true],
    [["a=1", "c"], false],
    [["x=y=z"], false],
  ];
  for (const [values, want] of cases) {
    assert.equal(matchesLabels(labels, labelFilterMap(values)), want, JSON.stringify(values));
  }
  assert.deepEqual([...labelFilterMap(["x=y=z"])], [["x", "y=z"]]);
});

test("prefix filters OR their values; no values match everything", () => {
  assert.equal(matchesPrefix("web", []), true);
  assert.equal(matchesPrefix("web", ["db", "we"]), true);
  assert.equal(matchesPrefix("web", ["eb"]), false);
});

test("unknown filter keys", async () => {
  await rejects(
    () => validateFilterKeys({ nme: ["x"] }, ["name"]),
    ErrorCode.InvalidArgument,
    "invalid filter 'nme'",
  );
});

test("resolution order: full ID beats a name, a name beats a prefix", async () => {
  const objs = [
    { ID: "abc111", name: "abc222" },
    { ID: "abc222", name: "web" },
    { ID: "xyz333", name: "abc" },
  ];
  const pick = (input: string) => resolveObject("service", input, objs, (o) => [o.name]).ID;
  assert.equal(pick("abc222"), "abc222");
  assert.equal(pick("web"), "abc222");
  assert.equal(pick("abc"), "xyz333");
  assert.equal(pick("xy"), "xyz333");
  await rejects(() => pick("ab"), ErrorCode.InvalidArgument, "service ab is ambiguous (2 matches found)");
  await rejects(() => pick("q"), ErrorCode.NotFound, "service q not found");
});
