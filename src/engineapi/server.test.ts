import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import {
  call,
  FakeControlApi,
  type Harness,
  messageOf,
  NOT_A_MANAGER,
  startHarness,
} from "./testing/index.ts";

const JSON_ONLY = "application/json";

describe("owned routes", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());
  afterEach(() => {
    h.backend.manager = undefined;
  });

  it("HEAD /_ping carries the negotiation headers and no body", async () => {
    const a = await call(h.socketPath, "HEAD", "/_ping");
    assert.equal(a.status, 200);
    assert.equal(a.headers["api-version"], "1.41");
    assert.equal(a.headers.ostype, "linux");
    assert.equal(a.headers["docker-experimental"], "false");
    assert.equal(a.headers.swarm, "inactive");
    assert.equal(a.headers["cache-control"], "no-cache, no-store, must-revalidate");
    assert.equal(a.headers.pragma, "no-cache");
    assert.equal(a.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(a.headers["content-length"], "0");
    assert.match(String(a.headers.server), /^Docker\/.+ \(linux\)$/);
    assert.equal(a.body, "");
  });

  it("GET /_ping and /v1.NN/_ping answer OK; Swarm follows the backend", async () => {
    h.backend.manager = new FakeControlApi();
    const a = await call(h.socketPath, "GET", "/v1.41/_ping");
    assert.equal(a.body, "OK");
    assert.equal(a.headers.swarm, "active/manager");
  });

  it("refuses versions outside 1.24–1.41 with moby's text and exact JSON content type", async () => {
    const tooNew = await call(h.socketPath, "GET", "/v1.99/info");
    assert.equal(tooNew.status, 400);
    assert.equal(tooNew.headers["content-type"], JSON_ONLY);
    assert.equal(messageOf(tooNew), "client version 1.99 is too new. Maximum supported API version is 1.41");
    const tooOld = await call(h.socketPath, "GET", "/v1.12/swarm");
    assert.equal(
      messageOf(tooOld),
      "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
    );
  });

  it("/version is dockerd's, presented as shoal", async () => {
    h.dockerd.handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          Version: "20.10.24",
          ApiVersion: "1.41",
          MinAPIVersion: "1.12",
          Components: [{ Name: "Engine", Version: "20.10.24" }],
        }),
      );
    };
    const a = await call(h.socketPath, "GET", "/v1.41/version");
    const doc = JSON.parse(a.body) as {
      Platform: { Name: string };
      Components: Array<{ Name: string }>;
      ApiVersion: string;
      MinAPIVersion: string;
    };
    assert.equal(a.headers["content-type"], JSON_ONLY);
    assert.equal(doc.Platform.Name, "shoal 9.9.9 (Docker Engine 20.10.24)");
    assert.deepEqual(
      doc.Components.map((c) => c.Name),
      ["shoal", "Engine"],
    );
    assert.equal(doc.ApiVersion, "1.41");
    assert.equal(doc.MinAPIVersion, "1.24");
    assert.equal(h.dockerd.requests.at(-1)?.url, "/v1.41/version");
  });

  it("/info is dockerd's with the Swarm section from the backend", async () => {
    h.dockerd.handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ Name: "host1", Swarm: { LocalNodeState: "active", NodeID: "dockerd-own" } }));
    };
    const info = JSON.parse((await call(h.socketPath, "GET", "/info")).body) as {
      Name: string;
      Swarm: { LocalNodeState: string; NodeID: string };
    };
    assert.equal(info.Name, "host1");
    assert.equal(info.Swarm.LocalNodeState, "inactive");
    assert.equal(info.Swarm.NodeID, "");
  });

  it("unknown owned paths are moby's 404", async () => {
    const a = await call(h.socketPath, "GET", "/v1.41/swarm/nosuch");
    assert.equal(a.status, 404);
    assert.equal(a.headers["content-type"], JSON_ONLY);
    assert.equal(messageOf(a), "page not found");
  });

  it("swarm-scope routes: 503 off a manager, 501 on one, never dockerd", async () => {
    const before = h.dockerd.requests.length;
    for (const [method, path] of [
      ["GET", "/v1.41/services"],
      ["POST", "/v1.41/nodes/x/nosuch"],
      ["DELETE", "/secrets/s"],
      ["GET", "/tasks"],
      ["GET", "/configs/c"],
    ] as const) {
      const off = await call(h.socketPath, method, path);
      assert.equal(off.status, 503, path);
      assert.equal(messageOf(off), NOT_A_MANAGER);
    }
    h.backend.manager = new FakeControlApi();
    // A path under a swarm-scope prefix that no route module serves (yet).
    const on = await call(h.socketPath, "GET", "/v1.41/services/x/nosuch?filters=%7B%7D");
    assert.equal(on.status, 501);
    assert.equal(messageOf(on), "not implemented yet: GET /services/x/nosuch");
    assert.equal(h.dockerd.requests.length, before);
  });

  it("a thrown non-ShoalError is a 500, logged at error", async () => {
    h.backend.swarmUnlock = async () => {
      throw new TypeError("kaboom");
    };
    const a = await call(h.socketPath, "POST", "/swarm/unlock", { body: '{"UnlockKey":"k"}' });
    assert.equal(a.status, 500);
    assert.equal(a.headers["content-type"], JSON_ONLY);
    assert.equal(messageOf(a), "kaboom");
    assert.ok(h.logger.lines.some((l) => l.level === "error" && l.err === "kaboom"));
  });
});
