import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SwarmService, SwarmTask } from "../../api/index.ts";
import { makeNode, makeService, makeTask, type NodeOptions } from "../common/fixtures.ts";
import { ERR_NO_LONGER_MEETS, enforceConstraints, MSG_ENFORCER_REJECTED } from "./enforcer.ts";

const NOW = Date.UTC(2026, 0, 1, 12);
const GiB = 2 ** 30;

const svcZoneA = makeService("zoned", {
  template: { ContainerSpec: { Image: "x" }, Placement: { Constraints: ["node.labels.zone==a"] } },
});
const svcBig = makeService("big", {
  template: { ContainerSpec: { Image: "x" }, Resources: { Reservations: { MemoryBytes: 3 * GiB } } },
});
const services = new Map<string, SwarmService>([
  [svcZoneA.ID, svcZoneA],
  [svcBig.ID, svcBig],
]);

interface Case {
  name: string;
  node: NodeOptions;
  tasks: SwarmTask[];
  rejected: string[];
  services?: Map<string, SwarmService>;
}

const cases: Case[] = [
  {
    name: "label still matches",
    node: { labels: { zone: "a" } },
    tasks: [makeTask("t1", svcZoneA, { node: "n1" })],
    rejected: [],
  },
  { name: "label removed", node: {}, tasks: [makeTask("t1", svcZoneA, { node: "n1" })], rejected: ["t1"] },
  {
    name: "paused node is left alone",
    node: { availability: "pause" },
    tasks: [makeTask("t1", svcZoneA, { node: "n1" })],
    rejected: [],
  },
  {
    name: "drained node is the orchestrator's job",
    node: { availability: "drain" },
    tasks: [makeTask("t1", svcZoneA, { node: "n1" })],
    rejected: [],
  },
  {
    name: "resources shrank: later tasks no longer fit",
    node: { memoryBytes: 4 * GiB },
    tasks: [makeTask("t1", svcBig, { node: "n1" }), makeTask("t2", svcBig, { node: "n1" })],
    rejected: ["t2"],
  },
  {
    name: "completed and stopping tasks hold nothing",
    node: { memoryBytes: 4 * GiB },
    tasks: [
      makeTask("t1", svcBig, { node: "n1", state: "complete", desired: "complete" }),
      makeTask("t2", svcBig, { node: "n1", desired: "shutdown" }),
      makeTask("t3", svcBig, { node: "n1" }),
    ],
    rejected: [],
  },
  {
    name: "service's current constraints win over the task's copy",
    node: {},
    tasks: [makeTask("t1", svcZoneA, { node: "n1", spec: { ContainerSpec: { Image: "x" } } })],
    rejected: ["t1"],
  },
  {
    name: "task of a deleted service uses its own constraints",
    node: {},
    tasks: [makeTask("t1", svcZoneA, { node: "n1", spec: { ContainerSpec: { Image: "x" } } })],
    rejected: [],
    services: new Map(),
  },
];

describe("enforceConstraints", () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = enforceConstraints(makeNode("n1", c.node), c.tasks, c.services ?? services, NOW);
      assert.deepEqual(
        out.map((t) => t.ID),
        c.rejected,
      );
      for (const t of out) {
        assert.equal(t.Status?.State, "rejected");
        assert.equal(t.Status?.Message, MSG_ENFORCER_REJECTED);
        assert.equal(t.Status?.Err, ERR_NO_LONGER_MEETS);
      }
    });
  }
});
