import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ServiceView } from "./stack-client.ts";
import { convergence } from "./stack-wait.ts";

const svc = (over: Partial<ServiceView>): ServiceView => ({
  ID: "x",
  Version: { Index: 1 },
  Spec: { Name: "app_web", Mode: { Replicated: { Replicas: 2 } } },
  ...over,
});

describe("convergence of a service for --wait and depends_on", () => {
  const cases: Array<[string, Partial<ServiceView>, string]> = [
    ["no status yet", {}, "pending"],
    ["some running", { ServiceStatus: { RunningTasks: 1, DesiredTasks: 2 } }, "pending"],
    ["all running", { ServiceStatus: { RunningTasks: 2, DesiredTasks: 2 } }, "converged"],
    [
      "scaling down: more running than desired",
      { ServiceStatus: { RunningTasks: 3, DesiredTasks: 2 } },
      "pending",
    ],
    ["scaled to zero", { ServiceStatus: { RunningTasks: 0, DesiredTasks: 0 } }, "converged"],
    [
      "global with no eligible node",
      { Spec: { Name: "g", Mode: { Global: {} } }, ServiceStatus: { RunningTasks: 0, DesiredTasks: 0 } },
      "converged",
    ],
    [
      "update in progress",
      { ServiceStatus: { RunningTasks: 2, DesiredTasks: 2 }, UpdateStatus: { State: "updating" } },
      "pending",
    ],
    [
      "update rolled back",
      { ServiceStatus: { RunningTasks: 2, DesiredTasks: 2 }, UpdateStatus: { State: "rollback_completed" } },
      "failed",
    ],
    ["update paused", { UpdateStatus: { State: "paused" } }, "failed"],
    [
      "job completed",
      {
        Spec: { Name: "j", Mode: { ReplicatedJob: {} } },
        ServiceStatus: { RunningTasks: 0, DesiredTasks: 1, CompletedTasks: 1 },
      },
      "converged",
    ],
  ];
  for (const [name, over, want] of cases) {
    it(name, () => assert.equal(convergence(svc(over)), want));
  }
});
