import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SeededIds } from "../../base/index.ts";
import { makeService } from "../common/fixtures.ts";
import { newTask } from "./task.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const at = new Date(T0).toISOString();

describe("newTask", () => {
  it("replicated: Swarm's shape", () => {
    const svc = { ...makeService("svc", { replicas: 2 }), SpecVersion: { Index: 11 } };
    svc.Spec = {
      ...svc.Spec,
      Labels: { team: "a" },
      EndpointSpec: { Mode: "vip", Ports: [{ TargetPort: 80 }] },
    };
    const t = newTask(svc, { slot: 2 }, new SeededIds(1), T0);
    assert.equal(t.ID.length, 25);
    assert.deepEqual(
      { ...t, ID: "x" },
      {
        ID: "x",
        ServiceID: "svc",
        Slot: 2,
        Spec: { ContainerSpec: { Image: "busybox:latest" } },
        SpecVersion: { Index: 11 },
        ServiceAnnotations: { Name: "svc", Labels: { team: "a" } },
        Endpoint: { Spec: { Mode: "vip", Ports: [{ TargetPort: 80 }] } },
        Status: { State: "new", Timestamp: at, Message: "created" },
        DesiredState: "running",
        CreatedAt: at,
        UpdatedAt: at,
      },
    );
    assert.notEqual(t.Spec, svc.Spec?.TaskTemplate, "the spec is a copy");
  });

  it("global: NodeID preset, slot 0", () => {
    const t = newTask(makeService("g", { mode: "global" }), { nodeId: "n1" }, new SeededIds(1), T0);
    assert.equal(t.NodeID, "n1");
    assert.equal(t.Slot, 0);
  });

  it("jobs: desired COMPLETE with the job iteration", () => {
    const t = newTask(
      makeService("j", { mode: "replicated-job", jobIteration: 3 }),
      { slot: 0 },
      new SeededIds(1),
      T0,
    );
    assert.equal(t.DesiredState, "complete");
    assert.deepEqual(t.JobIteration, { Index: 3 });
  });
});
