import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Node } from "../../api/index.ts";
import { managerStatusChanges } from "./status.ts";

const manager = (id: string, status?: Node["ManagerStatus"], state: "ready" | "down" = "ready"): Node => ({
  ID: id,
  Spec: { Role: "manager" },
  Status: { State: state },
  ...(status ? { ManagerStatus: status } : {}),
});

describe("managerStatusChanges", () => {
  test("Leader only on the leader; reachability from the election's candidates; Addr kept", () => {
    const nodes = [
      manager("a", { Leader: false, Reachability: "reachable", Addr: "10.0.0.1:2377" }),
      manager("b", { Leader: true, Reachability: "reachable", Addr: "10.0.0.2:2377" }),
      manager("c", { Leader: false, Reachability: "reachable", Addr: "10.0.0.3:2377" }),
    ];
    const out = managerStatusChanges(nodes, new Set(["a", "c"]), "a", new Set());
    assert.deepEqual(
      out.map((n) => [n.ID, n.ManagerStatus]),
      [
        ["a", { Leader: true, Reachability: "reachable", Addr: "10.0.0.1:2377" }],
        ["b", { Leader: false, Reachability: "unreachable", Addr: "10.0.0.2:2377" }],
      ],
    );
    assert.equal(out[1]?.Status?.State, "ready", "not down before the grace period");
  });

  test("nothing changes when the store already agrees", () => {
    const nodes = [manager("a", { Leader: true, Reachability: "reachable", Addr: "x:1" })];
    assert.deepEqual(managerStatusChanges(nodes, new Set(["a"]), "a", new Set()), []);
  });

  test("an unreachable manager past the grace period goes down, unless it never joined etcd", () => {
    const nodes = [
      manager("a", { Leader: true, Reachability: "reachable", Addr: "x:1" }),
      manager("b", { Leader: false, Reachability: "unreachable", Addr: "x:2" }),
      manager("p"), // promotion in progress: no address yet
    ];
    const out = managerStatusChanges(nodes, new Set(["a"]), "a", new Set(["b", "p"]));
    const b = out.find((n) => n.ID === "b");
    assert.equal(b?.Status?.State, "down");
    assert.equal(out.find((n) => n.ID === "p")?.Status?.State, "ready");
  });

  test("a demoted node loses its manager status", () => {
    const demoted: Node = { ID: "d", Spec: { Role: "worker" }, ManagerStatus: { Reachability: "reachable" } };
    const out = managerStatusChanges([demoted], new Set(), "a", new Set());
    assert.equal(out[0]?.ManagerStatus, null);
  });
});
