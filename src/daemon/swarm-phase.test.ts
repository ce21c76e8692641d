import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LostQuorumError } from "../base/index.ts";
import type { ControlApi } from "../manager/controlapi/index.ts";
import { MemoryStore, type Store } from "../store/index.ts";
import type { NodeRuntime } from "./runtime.ts";
import { type Active, swarmInfo } from "./swarm-phase.ts";
import { managerState } from "./testing.ts";

const RPC_LOST_QUORUM =
  "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

const state = managerState({ managers: ["10.0.0.1:2377", "10.0.0.2:2377"] });

const managerWith = (store: Store): Active => ({
  kind: "active",
  state,
  runtime: { store } as unknown as NodeRuntime,
  control: {} as ControlApi,
});

describe("swarmInfo on a manager", () => {
  it("answers without a leader as moby's Info does: the error, an empty cluster, no counts", () => {
    const store: Store = new MemoryStore();
    store.assertQuorum = () => {
      throw new LostQuorumError();
    };
    const info = swarmInfo(managerWith(store));
    assert.equal(info.Error, RPC_LOST_QUORUM);
    assert.equal(info.LocalNodeState, "active");
    assert.equal(info.ControlAvailable, true);
    assert.equal(info.NodeID, "n1");
    assert.deepEqual([info.Nodes, info.Managers, info.Cluster?.ID], [0, 0, ""]);
    assert.deepEqual(info.RemoteManagers, [
      { NodeID: "", Addr: "10.0.0.1:2377" },
      { NodeID: "", Addr: "10.0.0.2:2377" },
    ]);
  });

  it("reads the store when it has a leader", () => {
    const info = swarmInfo(managerWith(new MemoryStore()));
    assert.equal(info.Error, "");
    assert.equal(info.Cluster, undefined, "no cluster object in an empty store");
  });
});
