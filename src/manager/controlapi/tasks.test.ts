import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { updateService } from "./service-update.ts";
import { createService, getService } from "./services.ts";
import { getTask, listTasks } from "./tasks.ts";
import { addNode, addTask, basicSpec, makeDeps, rejects } from "./test-support.ts";

async function fixture() {
  const deps = makeDeps();
  await addNode(deps, "node1aaaaaaaaaaaaaaaaaaaa", { hostname: "vm1" });
  await addNode(deps, "node2bbbbbbbbbbbbbbbbbbbb", { hostname: "vm2" });
  const web = await createService(
    deps,
    basicSpec("app_web", { Labels: { "com.docker.stack.namespace": "app" } }),
  );
  const db = await createService(deps, basicSpec("db"));
  await addTask(deps, "task1aaaaaaaaaaaaaaaaaaaa", web.ID, { NodeID: "node1aaaaaaaaaaaaaaaaaaaa", Slot: 1 });
  await addTask(deps, "task2bbbbbbbbbbbbbbbbbbbb", web.ID, {
    NodeID: "node2bbbbbbbbbbbbbbbbbbbb",
    Slot: 2,
    DesiredState: "shutdown",
    Status: { State: "shutdown" },
  });
  await addTask(deps, "task3cccccccccccccccccccc", db.ID, { NodeID: "node2bbbbbbbbbbbbbbbbbbbb", Slot: 1 });
  return { deps, web: web.ID, db: db.ID };
}

const ids = (tasks: Array<{ ID?: string }>) => tasks.map((t) => t.ID?.slice(0, 5)).sort();

describe("listTasks filters", () => {
  test("service by name or ID, node by hostname or ID", async () => {
    const { deps, web } = await fixture();
    assert.deepEqual(ids(listTasks(deps, { service: ["app_web"] })), ["task1", "task2"]);
    assert.deepEqual(ids(listTasks(deps, { service: [web] })), ["task1", "task2"]);
    assert.deepEqual(ids(listTasks(deps, { node: ["vm2"] })), ["task2", "task3"]);
    assert.deepEqual(ids(listTasks(deps, { node: ["node1aaaaaaaaaaaaaaaaaaaa"] })), ["task1"]);
    assert.deepEqual(ids(listTasks(deps, { service: ["app_web"], node: ["vm2"] })), ["task2"]);
    await rejects(
      () => listTasks(deps, { service: ["nosuch"] }),
      ErrorCode.NotFound,
      "service nosuch not found",
    );
  });

  test("label matches the service's labels; desired-state; id and name prefixes", async () => {
    const { deps, db } = await fixture();
    assert.deepEqual(ids(listTasks(deps, { label: ["com.docker.stack.namespace=app"] })), ["task1", "task2"]);
    assert.deepEqual(ids(listTasks(deps, { "desired-state": ["running"] })), ["task1", "task3"]);
    assert.deepEqual(ids(listTasks(deps, { "desired-state": ["Shutdown"] })), ["task2"]);
    assert.deepEqual(ids(listTasks(deps, { id: ["task3"] })), ["task3"]);
    assert.deepEqual(ids(listTasks(deps, { name: ["app_web.2."] })), ["task2"]);
    assert.equal(listTasks(deps, { service: [db] })[0]?.ServiceID, db);
    await rejects(
      () => listTasks(deps, { "desired-state": ["sleeping"] }),
      ErrorCode.Internal,
      "Invalid desired-state filter: 'sleeping'",
    );
    await rejects(() => listTasks(deps, { slot: ["1"] }), ErrorCode.InvalidArgument, "invalid filter 'slot'");
  });

  test("_up-to-date keeps only tasks that match the current service spec", async () => {
    const { deps, web } = await fixture();
    const upToDate = { "_up-to-date": ["true"], service: [web] };
    assert.deepEqual(ids(listTasks(deps, upToDate)), ["task1", "task2"]);
    const s = getService(deps, web);
    const next = structuredClone(s.Spec ?? {});
    if (next.TaskTemplate?.ContainerSpec) next.TaskTemplate.ContainerSpec.Env = ["A=1"];
    await updateService(deps, web, s.Version?.Index ?? 0, next);
    assert.deepEqual(ids(listTasks(deps, upToDate)), []);
    await addTask(deps, "task4dddddddddddddddddddd", web, { Slot: 1 });
    assert.deepEqual(ids(listTasks(deps, upToDate)), ["task4"]);
  });

  test("an update with an identical spec leaves tasks up to date", async () => {
    const { deps, web } = await fixture();
    const s = getService(deps, web);
    await updateService(deps, web, s.Version?.Index ?? 0, s.Spec ?? {});
    assert.deepEqual(ids(listTasks(deps, { "_up-to-date": ["1"], service: [web] })), ["task1", "task2"]);
  });

  test("tasks never show manager-only fields", async () => {
    const { deps } = await fixture();
    const t = listTasks(deps, { id: ["task1"] })[0] as Record<string, unknown>;
    assert.equal(t.ServiceAnnotations, undefined);
    assert.equal(t.SpecVersion, undefined);
  });
});

describe("getTask", () => {
  test("by ID, prefix and name; missing", async () => {
    const { deps } = await fixture();
    assert.equal(getTask(deps, "task1aaaaaaaaaaaaaaaaaaaa").ID, "task1aaaaaaaaaaaaaaaaaaaa");
    assert.equal(getTask(deps, "task3").ID, "task3cccccccccccccccccccc");
    assert.equal(getTask(deps, "db.1.task3cccccccccccccccccccc").ID, "task3cccccccccccccccccccc");
    await rejects(
      () => getTask(deps, "task"),
      ErrorCode.InvalidArgument,
      "task task is ambiguous (3 matches found)",
    );
    await rejects(() => getTask(deps, "zzz"), ErrorCode.NotFound, "task zzz not found");
  });
});
