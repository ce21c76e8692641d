import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManagerList } from "./manager-list.ts";

describe("ManagerList", () => {
  test("rotates over the known managers, one per session attempt", () => {
    const l = new ManagerList(["a:1", "b:1", "a:1", "c:1"]);
    assert.deepEqual([l.pick(), l.pick(), l.pick(), l.pick()], ["a:1", "b:1", "c:1", "a:1"]);
  });

  test("a refresh keeps the manager in use as the next pick and reports the change", () => {
    const saved: string[][] = [];
    const l = new ManagerList(["a:1"], (x) => saved.push(x));
    assert.equal(l.pick(), "a:1");
    l.update(["c:1", "a:1", "b:1"]);
    assert.deepEqual(saved, [["c:1", "a:1", "b:1"]]);
    assert.equal(l.pick(), "a:1");
    assert.equal(l.pick(), "b:1");
    assert.equal(l.pick(), "c:1");
  });

  test("the same set or an empty list changes nothing", () => {
    const saved: string[][] = [];
    const l = new ManagerList(["a:1", "b:1"], (x) => saved.push(x));
    l.update(["b:1", "a:1"]);
    l.update([]);
    assert.deepEqual(saved, []);
    assert.deepEqual(l.all, ["a:1", "b:1"]);
  });
});
