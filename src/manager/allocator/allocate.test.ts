import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NetworkedTask, Service } from "../../api/index.ts";
import { allocateTask, MSG_PENDING, needsTaskAllocation } from "./allocate.ts";
import { rebuildState } from "./rebuild.ts";
import { allocatorConfig } from "./state.ts";
import { makeIngress, makeNetService, makeNetwork, makeNewTask } from "./testing.ts";

const task = (id: string, state: string, desired: string): NetworkedTask =>
  ({ ID: id, Status: { State: state }, DesiredState: desired }) as NetworkedTask;

const NOW = "2026-01-01T00:00:00.000Z";

describe("the task step", () => {
  test("new tasks that will run need allocation; others are left alone", () => {
    const tasks = [
      task("run", "new", "running"),
      task("held", "new", "ready"),
      task("job", "new", "complete"),
      task("gone", "new", "shutdown"),
      task("removed", "new", "remove"),
      task("old", "running", "running"),
    ];
    assert.deepEqual(
      tasks.filter(needsTaskAllocation).map((t) => t.ID),
      ["run", "held", "job"],
    );
  });

  test("a task without networks moves to pending with SwarmKit's message", () => {
    const state = rebuildState(
      { networks: [], services: [], tasks: [], nodes: [] },
      allocatorConfig(null, 24),
    );
    const r = allocateTask(state, task("t", "new", "running"), {
      services: new Map(),
      endpoints: new Map(),
      networks: new Map(),
      ingress: undefined,
      now: NOW,
    });
    assert.ok(typeof r !== "string");
    assert.equal(r.task.Status?.State, "pending");
    assert.equal(r.task.Status?.Message, MSG_PENDING);
    assert.equal(r.task.NetworksAttachments, undefined);
  });

  test("attachments: ingress first, then spec networks with aliases; one address each", () => {
    const ingress = {
      ...makeIngress(),
      IPAMOptions: { Configs: [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }] },
      DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4096" } },
    };
    const backend = {
      ...makeNetwork("net1"),
      IPAMOptions: { Configs: [{ Subnet: "10.0.1.0/24", Gateway: "10.0.1.1" }] },
      DriverState: { Name: "overlay", Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097" } },
    };
    const state = rebuildState(
      { networks: [ingress, backend], services: [], tasks: [], nodes: [] },
      allocatorConfig(null, 24),
    );
    const svc: Service = makeNetService("s", {
      networks: ["net1"],
      ports: [{ TargetPort: 80, PublishMode: "ingress", Protocol: "tcp" }],
    });
    const t = makeNewTask("t", svc);
    const r = allocateTask(state, t, {
      services: new Map([["s", svc]]),
      endpoints: new Map([["s", { Spec: {} }]]),
      networks: new Map([
        [ingress.ID, ingress],
        [backend.ID, backend],
      ]),
      ingress,
      now: NOW,
    });
    assert.ok(typeof r !== "string", String(r));
    assert.deepEqual(
      r.task.NetworksAttachments?.map((a) => [a.Network.ID, a.Addresses]),
      [
        [ingress.ID, ["10.0.0.2/24"]],
        ["net1", ["10.0.1.2/24"]],
      ],
    );
    assert.deepEqual([...r.touched].sort(), [ingress.ID, "net1"].sort());
  });

  test("a task waits while its service is not allocated or a network is missing", () => {
    const state = rebuildState(
      { networks: [], services: [], tasks: [], nodes: [] },
      allocatorConfig(null, 24),
    );
    const svc = makeNetService("s", { networks: ["nope"] });
    const ctx = {
      services: new Map<string, Service>(),
      endpoints: new Map(),
      networks: new Map(),
      ingress: undefined,
      now: NOW,
    };
    assert.match(
      String(allocateTask(state, makeNewTask("t", svc), ctx)),
      /service s is missing or not allocated/,
    );
    ctx.services.set("s", svc);
    assert.match(String(allocateTask(state, makeNewTask("t", svc), ctx)), /network nope not found/);
  });
});
