import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareVersions, decideRoute, versionError } from "./routing.ts";

describe("decideRoute", () => {
  it("strips the version prefix and keeps the query", () => {
    assert.deepEqual(decideRoute("GET", "/v1.41/services?status=true"), {
      owned: true,
      apiVersion: "1.41",
      url: "/services?status=true",
    });
    assert.deepEqual(decideRoute("HEAD", "/_ping"), { owned: true, apiVersion: undefined, url: "/_ping" });
    assert.equal(decideRoute("GET", "/v1.24/_ping").url, "/_ping");
  });
  it("owns swarm-scope resources, proxies the rest", () => {
    for (const p of [
      "/v1.41/swarm/init",
      "/nodes/x",
      "/tasks",
      "/secrets/create",
      "/configs",
      "/info",
      "/version",
    ]) {
      assert.equal(decideRoute("GET", p).owned, true, p);
    }
    for (const p of [
      "/v1.41/containers/json",
      "/images/json",
      "/events",
      "/versions",
      "/infox",
      "/exec/1/json",
    ]) {
      assert.equal(decideRoute("GET", p).owned, false, p);
    }
  });
  it("owns create, list, inspect and remove among network routes (the route forwards local ones)", () => {
    assert.equal(decideRoute("POST", "/v1.41/networks/create").owned, true);
    assert.equal(decideRoute("GET", "/v1.41/networks/create").owned, false);
    assert.equal(decideRoute("GET", "/v1.41/networks").owned, true);
    assert.equal(decideRoute("GET", "/v1.41/networks/abc?scope=swarm").owned, true);
    assert.equal(decideRoute("DELETE", "/v1.41/networks/abc").owned, true);
    assert.equal(decideRoute("POST", "/v1.41/networks/abc/connect").owned, false);
    assert.equal(decideRoute("POST", "/v1.41/networks/prune").owned, false);
  });
});

describe("version checks", () => {
  it("compares numerically", () => {
    assert.equal(compareVersions("1.9", "1.24"), -1);
    assert.equal(compareVersions("1.41", "1.41"), 0);
    assert.equal(compareVersions("1.100", "1.41"), 1);
  });
  it("uses moby's texts", () => {
    assert.equal(versionError(undefined), undefined);
    assert.equal(versionError("1.30"), undefined);
    assert.equal(
      versionError("1.99")?.message,
      "client version 1.99 is too new. Maximum supported API version is 1.41",
    );
    assert.equal(
      versionError("1.12")?.message,
      "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
    );
  });
});
