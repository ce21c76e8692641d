/**
 * The /services, /tasks and /nodes routes over a real control API on the memory store, through
 * fastify's inject: statuses, bodies and query parsing as the docker CLI sees them.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { SeededIds, silentLogger, VirtualClock } from "../../base/index.ts";
import { ControlApiImpl } from "../../manager/controlapi/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import { buildApp } from "../app.ts";
import type { NodeBackend } from "../backend.ts";
import type { Dockerd } from "../proxy/dockerd.ts";
import type { EngineApp } from "./types.ts";

const store = new MemoryStore();
const control = new ControlApiImpl({
  store,
  clock: new VirtualClock(),
  ids: new SeededIds(3),
  logger: silentLogger(),
});
const backend = { control: () => control } as unknown as NodeBackend;
let app: EngineApp;

before(async () => {
  const deps = { backend, dockerd: {} as Dockerd, logger: silentLogger(), shoalVersion: "test" };
  app = buildApp(deps, () => createServer());
  await app.ready();
  await store.update((tx) =>
    tx.create("nodes", {
      ID: "node1aaaaaaaaaaaaaaaaaaaa",
      Spec: { Labels: {}, Role: "worker", Availability: "active" },
      Description: { Hostname: "vm1" },
      Status: { State: "ready" },
    }),
  );
});
after(() => app.close());

const body = {
  Name: "web",
  TaskTemplate: { ContainerSpec: { Image: "busybox:latest" } },
  Mode: { Replicated: {} },
};
const json = { "content-type": "application/json" };

describe("service routes", () => {
  let id = "";

  test("create → 201 {ID}; the name is then taken → 409", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/services/create",
      payload: body,
      headers: { ...json, "x-registry-auth": "e30=" },
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers["content-type"], "application/json");
    id = res.json().ID;
    assert.match(id, /^[0-9a-z]{25}$/);
    const again = await app.inject({ method: "POST", url: "/services/create", payload: body, headers: json });
    assert.equal(again.statusCode, 409);
    assert.equal(
      again.json().message,
      "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists",
    );
  });

  test("a negative replica count is a 400 from the decoder", async () => {
    const bad = { ...body, Name: "bad", Mode: { Replicated: { Replicas: -1 } } };
    const res = await app.inject({ method: "POST", url: "/services/create", payload: bad, headers: json });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /cannot unmarshal number -1 into Go struct field/);
  });

  test("inspect by name with insertDefaults; 404 for a missing one", async () => {
    const res = await app.inject({ method: "GET", url: "/services/web?insertDefaults=true" });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().Spec.UpdateConfig.Order, "stop-first");
    assert.doesNotMatch(res.body, /PullOptions|e30=/);
    const missing = await app.inject({ method: "GET", url: "/services/nosuch?insertDefaults=false" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().message, "service nosuch not found");
  });

  test("list with filters and status", async () => {
    const filters = encodeURIComponent(JSON.stringify({ name: { we: true } }));
    const res = await app.inject({ method: "GET", url: `/services?status=true&filters=${filters}` });
    assert.equal(res.statusCode, 200);
    const [svc] = res.json();
    assert.equal(svc.Spec.Name, "web");
    assert.deepEqual(svc.ServiceStatus, { RunningTasks: 0, DesiredTasks: 1, CompletedTasks: 0 });
  });

  test("update → 200 {Warnings:null}; bad or stale version", async () => {
    const current = (await app.inject({ method: "GET", url: `/services/${id}` })).json();
    const v = current.Version.Index;
    const spec = { ...current.Spec, Mode: { Replicated: { Replicas: 2 } } };
    const res = await app.inject({
      method: "POST",
      url: `/services/${id}/update?version=${v}&registryAuthFrom=spec`,
      payload: spec,
      headers: json,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { Warnings: null });
    const stale = await app.inject({
      method: "POST",
      url: `/services/${id}/update?version=${v}`,
      payload: spec,
      headers: json,
    });
    assert.equal(stale.statusCode, 500);
    assert.equal(stale.json().message, "rpc error: code = Unknown desc = update out of sequence");
    const noVersion = await app.inject({
      method: "POST",
      url: `/services/${id}/update`,
      payload: spec,
      headers: json,
    });
    assert.equal(noVersion.statusCode, 400);
    assert.equal(
      noVersion.json().message,
      `invalid service version '': strconv.ParseUint: parsing "": invalid syntax`,
    );
    const badFrom = await app.inject({
      method: "POST",
      url: `/services/${id}/update?version=${v}&registryAuthFrom=x`,
      payload: spec,
      headers: json,
    });
    assert.equal(badFrom.json().message, "invalid registryAuthFrom 'x'");
  });

  test("tasks list and a node-filtered list", async () => {
    const res = await app.inject({
      method: "GET",
      url: `/tasks?filters=${encodeURIComponent('{"node":{"vm1":true}}')}`,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), []);
    const missing = await app.inject({ method: "GET", url: "/tasks/nosuch" });
    assert.equal(missing.statusCode, 404);
  });

  test("delete → 200 with an empty body", async () => {
    const res = await app.inject({ method: "DELETE", url: "/services/web" });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, "");
  });
});

describe("node routes", () => {
  test("inspect by hostname, update, remove a ready node without force", async () => {
    const node = (await app.inject({ method: "GET", url: "/nodes/vm1" })).json();
    assert.equal(node.ID, "node1aaaaaaaaaaaaaaaaaaaa");
    const spec = { Labels: { a: "b" }, Role: "worker", Availability: "drain" };
    const upd = await app.inject({
      method: "POST",
      url: `/nodes/vm1/update?version=${node.Version.Index}`,
      payload: spec,
      headers: json,
    });
    assert.equal(upd.statusCode, 200);
    assert.equal(upd.body, "");
    const list = (await app.inject({ method: "GET", url: "/nodes" })).json();
    assert.equal(list[0].Spec.Availability, "drain");
    const rm = await app.inject({ method: "DELETE", url: "/nodes/vm1" });
    assert.equal(rm.statusCode, 400);
    assert.equal(
      rm.json().message,
      "rpc error: code = FailedPrecondition desc = node node1aaaaaaaaaaaaaaaaaaaa is not down and can't be removed",
    );
    const forced = await app.inject({ method: "DELETE", url: "/nodes/vm1?force=1" });
    assert.equal(forced.statusCode, 200);
  });
});
