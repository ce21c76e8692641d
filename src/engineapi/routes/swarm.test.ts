import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  call,
  FakeControlApi,
  type Harness,
  messageOf,
  NOT_A_MANAGER,
  startHarness,
} from "../testing/index.ts";

describe("/swarm routes", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());
  beforeEach(() => {
    h.backend.manager = undefined;
    h.backend.calls.length = 0;
  });
  const sock = () => h.socketPath;

  it("init returns the node ID as a JSON string", async () => {
    const a = await call(sock(), "POST", "/v1.41/swarm/init", {
      body: JSON.stringify({
        ListenAddr: "0.0.0.0:2377",
        AdvertiseAddr: "127.0.0.1",
        ForceNewCluster: false,
      }),
    });
    assert.equal(a.status, 200);
    assert.equal(a.headers["content-type"], "application/json");
    assert.equal(JSON.parse(a.body), "node1");
    assert.deepEqual(h.backend.calls[0], {
      method: "swarmInit",
      arg: { ListenAddr: "0.0.0.0:2377", AdvertiseAddr: "127.0.0.1", ForceNewCluster: false },
    });
  });

  it("init refuses malformed JSON and wrong field types naming the field", async () => {
    const bad = await call(sock(), "POST", "/swarm/init", { body: "{x" });
    assert.equal(bad.status, 400);
    assert.match(messageOf(bad), /JSON|invalid character/);
    const notJson = await call(sock(), "POST", "/swarm/init", { body: "nope" });
    assert.equal(messageOf(notJson), "invalid character 'o' in literal null (expecting 'u')");
    const junk = await call(sock(), "POST", "/swarm/init", { body: "xyz" });
    assert.equal(messageOf(junk), "invalid character 'x' looking for beginning of value");
    const wrong = await call(sock(), "POST", "/swarm/init", { body: '{"ForceNewCluster":"yes"}' });
    assert.equal(wrong.status, 400);
    assert.match(messageOf(wrong), /ForceNewCluster of type bool/);
    assert.equal(h.backend.calls.length, 0);
  });

  it("join, leave and unlock reach the backend", async () => {
    const join = await call(sock(), "POST", "/swarm/join", {
      body: JSON.stringify({ RemoteAddrs: ["10.0.0.1:2377"], JoinToken: "SWMTKN-1-x" }),
    });
    assert.equal(join.status, 200);
    assert.equal((await call(sock(), "POST", "/swarm/leave?force=1")).status, 200);
    assert.equal((await call(sock(), "POST", "/swarm/leave")).status, 200);
    assert.equal(
      (await call(sock(), "POST", "/swarm/unlock", { body: '{"UnlockKey":"SWMKEY-1-k"}' })).status,
      200,
    );
    assert.deepEqual(
      h.backend.calls.map((c) => [c.method, c.arg]),
      [
        ["swarmJoin", { RemoteAddrs: ["10.0.0.1:2377"], JoinToken: "SWMTKN-1-x" }],
        ["swarmLeave", true],
        ["swarmLeave", false],
        ["swarmUnlock", "SWMKEY-1-k"],
      ],
    );
    const bad = await call(sock(), "POST", "/swarm/join", { body: '{"RemoteAddrs":"10.0.0.1"}' });
    assert.match(messageOf(bad), /RemoteAddrs of type \[\]string/);
  });

  it("inspect, update and unlockkey need a manager", async () => {
    for (const [method, path] of [
      ["GET", "/swarm"],
      ["GET", "/swarm/unlockkey"],
      ["POST", "/swarm/update?version=10"],
    ] as const) {
      const a = await call(sock(), method, path, method === "POST" ? { body: "{}" } : {});
      assert.equal(a.status, 503, path);
      assert.equal(messageOf(a), NOT_A_MANAGER);
    }
  });

  it("update passes the spec, version and rotate flags to the control API", async () => {
    const control = new FakeControlApi();
    h.backend.manager = control;
    const swarm = JSON.parse((await call(sock(), "GET", "/v1.41/swarm")).body) as {
      Version: { Index: number };
    };
    assert.equal(swarm.Version.Index, 10);
    const a = await call(
      sock(),
      "POST",
      "/v1.41/swarm/update?version=10&rotateWorkerToken=true&rotateManagerToken=false&rotateManagerUnlockKey=1",
      { body: JSON.stringify({ Name: "default", Raft: { ElectionTick: 10 } }) },
    );
    assert.equal(a.status, 200);
    assert.deepEqual(control.updates[0], {
      spec: { Name: "default", Raft: { ElectionTick: 10 } },
      flags: {
        version: 10,
        rotateWorkerToken: true,
        rotateManagerToken: false,
        rotateManagerUnlockKey: true,
      },
    });
  });

  it("update: version and flag errors, and a stale version", async () => {
    h.backend.manager = new FakeControlApi();
    const missing = await call(sock(), "POST", "/swarm/update", { body: "{}" });
    assert.equal(missing.status, 400);
    assert.equal(
      messageOf(missing),
      `invalid swarm version '': strconv.ParseUint: parsing "": invalid syntax`,
    );
    const nan = await call(sock(), "POST", "/swarm/update?version=x1", { body: "{}" });
    assert.equal(
      messageOf(nan),
      `invalid swarm version 'x1': strconv.ParseUint: parsing "x1": invalid syntax`,
    );
    const flag = await call(sock(), "POST", "/swarm/update?version=10&rotateWorkerToken=maybe", {
      body: "{}",
    });
    assert.equal(messageOf(flag), "invalid value for rotateWorkerToken: maybe");
    const field = await call(sock(), "POST", "/swarm/update?version=10", { body: '{"Labels":{"a":1}}' });
    assert.match(messageOf(field), /Labels\.a of type string/);
    const stale = await call(sock(), "POST", "/swarm/update?version=3", { body: "{}" });
    assert.equal(stale.status, 500);
    assert.equal(stale.headers["content-type"], "application/json");
    assert.equal(messageOf(stale), "rpc error: code = Unknown desc = update out of sequence");
  });

  it("unlockkey wraps the key", async () => {
    const control = new FakeControlApi();
    control.key = "SWMKEY-1-abc";
    h.backend.manager = control;
    assert.deepEqual(JSON.parse((await call(sock(), "GET", "/swarm/unlockkey")).body), {
      UnlockKey: "SWMKEY-1-abc",
    });
  });
});
