import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Node } from "../api/index.ts";
import { defaultSwarmSpec } from "../manager/controlapi/index.ts";
import { FORCED_OUT_MESSAGE, forcedClusterNodes, forcedClusterSpec } from "./force-new-cluster.ts";

const manager = (id: string, leader: boolean, state: "ready" | "down" = "ready"): Node => ({
  ID: id,
  Spec: { Role: "manager", Availability: "active" },
  Status: { State: state, Addr: `10.0.0.${id.slice(1)}` },
  ManagerStatus: {
    Leader: leader,
    Reachability: leader ? "reachable" : "unreachable",
    Addr: `10.0.0.${id.slice(1)}:2377`,
  },
});
const worker: Node = { ID: "w9", Spec: { Role: "worker" }, Status: { State: "ready" } };

describe("forcedClusterNodes", () => {
  test("the other managers become down workers without manager status; this one leads", () => {
    const nodes = [manager("m1", false), manager("m2", true, "down"), manager("m3", false, "down"), worker];
    const out = forcedClusterNodes(nodes, "m1", "now");
    assert.deepEqual(
      out.map((n) => [n.ID, n.Spec?.Role, n.ManagerStatus, n.Status?.State]),
      [
        ["m1", "manager", { Leader: true, Reachability: "reachable", Addr: "10.0.0.1:2377" }, "ready"],
        ["m2", "worker", null, "down"],
        ["m3", "worker", null, "down"],
      ],
    );
    assert.equal(out[1]?.Status?.Message, FORCED_OUT_MESSAGE);
    assert.equal(out[1]?.Spec?.Availability, "active", "the rest of the spec is kept");
  });

  test("nothing to change when this node already is the only manager and leads", () => {
    const self = {
      ...manager("m1", true),
      ManagerStatus: { Leader: true, Reachability: "reachable" as const, Addr: "10.0.0.1:2377" },
    };
    assert.deepEqual(forcedClusterNodes([self, worker], "m1", "now"), []);
  });
});

describe("forcedClusterSpec", () => {
  const existing = {
    ...defaultSwarmSpec(),
    CAConfig: { NodeCertExpiry: 3_600_000_000_000 * 48, ForceRotate: 2 },
    EncryptionConfig: { AutoLockManagers: true },
  };
  test("what the CLI sends for a plain init --force-new-cluster changes nothing", () => {
    const req = {
      ForceNewCluster: true,
      Spec: {
        Orchestration: {},
        Raft: {},
        Dispatcher: {},
        CAConfig: {},
        EncryptionConfig: {},
        TaskDefaults: {},
      },
    };
    const spec = forcedClusterSpec(existing, req);
    assert.deepEqual(spec.CAConfig, existing.CAConfig);
    assert.deepEqual(spec.EncryptionConfig, { AutoLockManagers: true });
    assert.equal(spec.Raft?.SnapshotInterval, existing.Raft?.SnapshotInterval);
  });

  test("flags given with it apply", () => {
    const spec = forcedClusterSpec(existing, {
      ForceNewCluster: true,
      Spec: {
        Orchestration: { TaskHistoryRetentionLimit: 9 },
        CAConfig: { NodeCertExpiry: 3_600_000_000_000 * 5 },
      },
    });
    assert.equal(spec.Orchestration?.TaskHistoryRetentionLimit, 9);
    assert.equal(spec.CAConfig?.NodeCertExpiry, 3_600_000_000_000 * 5);
    assert.equal(spec.CAConfig?.ForceRotate, 2);
  });
});
