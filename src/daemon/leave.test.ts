import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Node } from "../api/index.ts";
import { leaveRefusal, managerStats } from "./leave.ts";

describe("swarm leave on a manager", () => {
  test("the last manager gets moby's erase warning", () => {
    assert.equal(
      leaveRefusal(1, 0),
      "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ",
    );
  });

  test("a loss of quorum is spelled out", () => {
    assert.match(leaveRefusal(2, 1), /Removing this node leaves 1 managers out of 3\. Without a Raft quorum/);
    assert.match(leaveRefusal(2, 0), /leaves 1 managers out of 2/);
  });

  test("with quorum kept, moby still refuses without --force", () => {
    const msg = leaveRefusal(3, 0);
    assert.doesNotMatch(msg, /Raft quorum/);
    assert.match(
      msg,
      /reinitialize it with `--force-new-cluster`\. Use `--force` to suppress this message\.$/,
    );
  });

  test("counts come from the managers' reachability", () => {
    const m = (id: string, r?: "reachable" | "unreachable"): Node => ({
      ID: id,
      Spec: { Role: "manager" },
      ...(r ? { ManagerStatus: { Reachability: r } } : {}),
    });
    const w: Node = { ID: "w", Spec: { Role: "worker" } };
    assert.deepEqual(managerStats([m("a", "reachable"), m("b", "unreachable"), m("c"), w]), {
      reachable: 2,
      unreachable: 1,
    });
  });
});
