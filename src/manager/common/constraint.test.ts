import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ShoalError } from "../../base/index.ts";
import { nodeMatches, parseConstraints } from "./constraint.ts";
import { makeNode } from "./fixtures.ts";

describe("parseConstraints", () => {
  const good: Array<[string, { key: string; operator: string; value: string }]> = [
    ["node.role==manager", { key: "node.role", operator: "==", value: "manager" }],
    [" node.labels.zone != east ", { key: "node.labels.zone", operator: "!=", value: "east" }],
    ["node.hostname==web-1.example", { key: "node.hostname", operator: "==", value: "web-1.example" }],
    ["node.ip==10.0.0.0/8", { key: "node.ip", operator: "==", value: "10.0.0.0/8" }],
    ["engine.labels.a_b==x y", { key: "engine.labels.a_b", operator: "==", value: "x y" }],
  ];
  for (const [expr, want] of good) {
    it(`parses ${JSON.stringify(expr)}`, () => assert.deepEqual(parseConstraints([expr]), [want]));
  }

  const bad: Array<[string, string]> = [
    ["node.role=manager", "constraint expected one operator from ==, !="],
    ["node.role", "constraint expected one operator from ==, !="],
    ["==manager", "key '' is invalid"],
    ["node role==manager", "key 'node role' is invalid"],
    ["1node==x", "key '1node' is invalid"],
    ["node.role==", "value '' is invalid"],
    ["node.role==a<b", "value 'a<b' is invalid"],
    ["node.role==a==b", "value 'a==b' is invalid"],
  ];
  for (const [expr, message] of bad) {
    it(`rejects ${JSON.stringify(expr)} with Swarm's message`, () => {
      assert.throws(
        () => parseConstraints([expr]),
        (err: unknown) =>
          err instanceof ShoalError && err.code === "InvalidArgument" && err.message === message,
      );
    });
  }
});

describe("nodeMatches", () => {
  const node = makeNode("abc123", {
    hostname: "Web-1",
    role: "manager",
    labels: { zone: "East", Disk: "ssd" },
    engineLabels: { gpu: "yes" },
    os: "linux",
    arch: "x86_64",
    addr: "10.1.2.3",
  });
  const table: Array<[string, boolean]> = [
    ["node.id==abc123", true],
    ["node.id!=abc123", false],
    ["node.hostname==web-1", true],
    ["NODE.HOSTNAME==WEB-1", true],
    ["node.role==manager", true],
    ["node.role==worker", false],
    ["node.platform.os==linux", true],
    ["node.platform.arch==x86_64", true],
    ["node.platform.arch==amd64", false],
    ["node.labels.zone==east", true],
    ["NODE.LABELS.zone==east", true],
    ["node.labels.disk==ssd", false], // label names are case-sensitive: missing label is ""
    ["node.labels.Disk==ssd", true],
    ["node.labels.missing!=x", true],
    ["node.labels.missing==x", false],
    ["engine.labels.gpu==yes", true],
    ["engine.labels.gpu!=yes", false],
    ["node.ip==10.1.2.3", true],
    ["node.ip==10.0.0.0/8", true],
    ["node.ip!=10.0.0.0/8", false],
    ["node.ip==192.168.0.0/16", false],
    ["node.ip==not-an-ip", false],
    ["node.ip!=not-an-ip", false],
    ["node.unknown==x", false],
    ["node.unknown!=x", false],
    ["node.labels.zone==e*", false], // no globs
  ];
  for (const [expr, want] of table) {
    it(`${expr} → ${want}`, () => assert.equal(nodeMatches(parseConstraints([expr]), node), want));
  }
  it("requires every constraint", () => {
    assert.equal(
      nodeMatches(parseConstraints(["node.role==manager", "node.labels.zone==west"]), node),
      false,
    );
    assert.equal(nodeMatches([], node), true);
  });
});
