/**
 * The /secrets and /configs routes over a real control API on the memory store, through fastify's
 * inject: statuses, bodies, filters and version parsing as the docker CLI and `stack deploy` see
 * them, and a secret's data in no response and no log line.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import type { InjectOptions } from "fastify";
import { MemoryLogger, SeededIds, VirtualClock } from "../../base/index.ts";
import { ControlApiImpl } from "../../manager/controlapi/index.ts";
import { MemoryStore } from "../../store/memory.ts";
import { buildApp } from "../app.ts";
import type { NodeBackend } from "../backend.ts";
import type { Dockerd } from "../proxy/dockerd.ts";
import type { EngineApp } from "./types.ts";

const logger = new MemoryLogger();
const control = new ControlApiImpl({
  store: new MemoryStore(),
  clock: new VirtualClock(),
  ids: new SeededIds(5),
  logger,
});
const backend = { control: () => control } as unknown as NodeBackend;
let app: EngineApp;
const DATA = Buffer.from("top-secret-value").toString("base64");
const json = { "content-type": "application/json" };

before(async () => {
  app = buildApp({ backend, dockerd: {} as Dockerd, logger, shoalVersion: "test" }, () => createServer());
  await app.ready();
});
after(() => app.close());

describe("secret routes", () => {
  let id = "";
  const all: string[] = [];
  const inject = async (opts: InjectOptions) => {
    const res = await app.inject(opts);
    all.push(res.body);
    return res;
  };

  test("create → 201 {ID}; duplicate → 409", async () => {
    const create = { method: "POST" as const, url: "/secrets/create", headers: json };
    const res = await inject({ ...create, payload: { Name: "db", Labels: { a: "b" }, Data: DATA } });
    assert.equal(res.statusCode, 201);
    id = res.json().ID;
    assert.match(id, /^[0-9a-z]{25}$/);
    const dup = await inject({ ...create, payload: { Name: "db", Data: DATA } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().message, "rpc error: code = AlreadyExists desc = secret db already exists");
  });

  test("list with filters and inspect by name/prefix: no Data", async () => {
    const f = encodeURIComponent(JSON.stringify({ names: { db: true } }));
    const list = await inject({ method: "GET", url: `/secrets?filters=${f}` });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(
      list.json().map((s: { ID: string }) => s.ID),
      [id],
    );
    const bad = await inject({
      method: "GET",
      url: `/secrets?filters=${encodeURIComponent('{"driver":{"x":true}}')}`,
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().message, "invalid filter 'driver'");
    for (const ref of ["db", id, id.slice(0, 4)]) {
      const one = await inject({ method: "GET", url: `/secrets/${ref}` });
      assert.equal(one.statusCode, 200);
      assert.equal(one.json().Spec.Data, undefined);
    }
    const missing = await inject({ method: "GET", url: "/secrets/nosuch" });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().message, "secret nosuch not found");
  });

  test("update: version required; same data accepted; changed data → 400", async () => {
    const version = (await inject({ method: "GET", url: `/secrets/${id}` })).json().Version.Index;
    const url = `/secrets/${id}/update`;
    const noVersion = await inject({ method: "POST", url, headers: json, payload: { Name: "db" } });
    assert.equal(noVersion.statusCode, 400);
    assert.match(noVersion.json().message, /^invalid secret version '':/);
    const same = await inject({
      method: "POST",
      url: `${url}?version=${version}`,
      headers: json,
      payload: { Name: "db", Labels: { a: "c" }, Data: DATA },
    });
    assert.equal(same.statusCode, 200);
    assert.equal(same.body, "");
    const changed = await inject({
      method: "POST",
      url: `${url}?version=${version + 10}`,
      headers: json,
      payload: { Name: "db", Data: Buffer.from("other").toString("base64") },
    });
    assert.equal(changed.statusCode, 400);
    assert.equal(
      changed.json().message,
      "rpc error: code = InvalidArgument desc = only updates to Labels are allowed",
    );
  });

  test("delete → 204; then 404", async () => {
    const del = await inject({ method: "DELETE", url: "/secrets/db" });
    assert.equal(del.statusCode, 204);
    assert.equal((await inject({ method: "DELETE", url: "/secrets/db" })).statusCode, 404);
  });

  test("the data was in no response and no log line", () => {
    assert.equal(all.join("\n").includes(DATA), false);
    assert.equal(JSON.stringify(logger.lines).includes(DATA), false);
  });
});

describe("config routes", () => {
  test("create, inspect with Data, update labels, delete", async () => {
    const data = Buffer.from("k=v").toString("base64");
    const res = await app.inject({
      method: "POST",
      url: "/configs/create",
      headers: json,
      payload: { Name: "c", Data: data },
    });
    assert.equal(res.statusCode, 201);
    const got = await app.inject({ method: "GET", url: "/configs/c" });
    assert.equal(got.json().Spec.Data, data);
    const v = got.json().Version.Index;
    const upd = await app.inject({
      method: "POST",
      url: `/configs/c/update?version=${v}`,
      headers: json,
      payload: { Name: "c", Labels: { x: "y" }, Data: data },
    });
    assert.equal(upd.statusCode, 200);
    assert.deepEqual((await app.inject({ method: "GET", url: "/configs" })).json()[0].Spec.Labels, {
      x: "y",
    });
    assert.equal((await app.inject({ method: "DELETE", url: "/configs/c" })).statusCode, 204);
  });
});
