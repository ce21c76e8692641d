import assert from "node:assert/strict";
import { test } from "node:test";
import type { Node, SwarmService, SwarmTask } from "../../api/index.ts";
import { isTaskDirty } from "./task-dirty.ts";

const service = (patch: Partial<NonNullable<SwarmService["Spec"]>> = {}): SwarmService => ({
  ID: "s1",
  SpecVersion: { Index: 10 },
  Spec: {
    Name: "web",
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:latest" },
      Placement: { Constraints: ["node.labels.zone==a"] },
    },
    ...patch,
  },
});
const taskOf = (s: SwarmService, patch: Partial<SwarmTask> = {}): SwarmTask => ({
  ID: "t1",
  ServiceID: s.ID,
  Spec: structuredClone(s.Spec?.TaskTemplate ?? {}),
  DesiredState: "running",
  Status: { State: "running" },
  ...patch,
});
const node = (zone: string): Node => ({ ID: "n1", Spec: { Labels: { zone } } });

test("same spec version: never dirty", () => {
  const s = service();
  const t = taskOf(s, { SpecVersion: { Index: 10 }, Spec: {} });
  assert.equal(isTaskDirty(s, t, undefined), false);
});

test("equal specs after normalisation are not dirty; a changed field is", () => {
  const s = service();
  const t = taskOf(s, { SpecVersion: { Index: 3 } });
  (t.Spec as { Networks?: unknown[] }).Networks = [];
  assert.equal(isTaskDirty(s, t, node("a")), false);
  const changed = service({ TaskTemplate: { ContainerSpec: { Image: "nginx:latest" } } });
  assert.equal(isTaskDirty(changed, t, node("a")), true);
});

test("only the constraints changed: dirty unless the task's node satisfies the new ones", () => {
  const old = service();
  const t = taskOf(old);
  const moved = service({
    TaskTemplate: {
      ContainerSpec: { Image: "busybox:latest" },
      Placement: { Constraints: ["node.labels.zone!=b"] },
    },
  });
  assert.equal(isTaskDirty(moved, t, node("a")), false);
  assert.equal(isTaskDirty(moved, t, node("b")), true);
  assert.equal(isTaskDirty(moved, t, undefined), true);
});

test("pull options alone do not make a running task dirty, but do a pending one", () => {
  const s = service();
  const withAuth = structuredClone(s);
  const c = withAuth.Spec?.TaskTemplate?.ContainerSpec as { PullOptions?: unknown };
  c.PullOptions = { RegistryAuth: "new" };
  assert.equal(isTaskDirty(withAuth, taskOf(s), node("a")), false);
  assert.equal(isTaskDirty(withAuth, taskOf(s, { Status: { State: "pending" } }), node("a")), true);
});

test("a changed endpoint spec makes tasks that carry an endpoint dirty", () => {
  const s = service({ EndpointSpec: { Mode: "vip", Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } });
  const t = taskOf(s, { Endpoint: { Spec: { Mode: "vip" } } });
  assert.equal(isTaskDirty(s, t, node("a")), true);
  assert.equal(isTaskDirty(s, taskOf(s), node("a")), false);
});

test("no endpoint spec on the service and an empty one on the task are the same", () => {
  const s = service();
  assert.equal(isTaskDirty(s, taskOf(s, { Endpoint: { Spec: {} } }), node("a")), false);
});
