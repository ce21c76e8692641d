import assert from "node:assert/strict";
import { test } from "node:test";
import type { ServiceSpec } from "../api/index.ts";
import { baseName, nextVersionName, repointSecret, versionOf } from "./secret-rotate.ts";

test("version names: NAME is v1, then NAME.v2, NAME.v3", () => {
  assert.equal(versionOf("db", "db"), 1);
  assert.equal(versionOf("db", "db.v7"), 7);
  assert.equal(versionOf("db", "db_other"), undefined);
  assert.equal(versionOf("a.b", "aXb"), undefined);
  assert.equal(nextVersionName("db", ["db"]), "db.v2");
  assert.equal(nextVersionName("db", ["db", "db.v2", "db.v5"]), "db.v6");
  assert.equal(nextVersionName("db", ["db.v3"]), "db.v4");
  assert.equal(baseName("db.v3"), "db");
  assert.equal(baseName("db"), "db");
});

test("repointSecret keeps each reference's target, owner and mode", () => {
  const spec: ServiceSpec = {
    Name: "web",
    TaskTemplate: {
      ContainerSpec: {
        Image: "busybox",
        Secrets: [
          { SecretID: "old", SecretName: "db", File: { Name: "pw", UID: "1000", GID: "1000", Mode: 0o400 } },
          { SecretID: "other", SecretName: "x", File: { Name: "x", UID: "0", GID: "0", Mode: 0o444 } },
        ],
      },
    },
  };
  const out = repointSecret(spec, new Set(["old"]), { ID: "new", Name: "db.v2" });
  assert.deepEqual(out?.TaskTemplate?.ContainerSpec?.Secrets, [
    { SecretID: "new", SecretName: "db.v2", File: { Name: "pw", UID: "1000", GID: "1000", Mode: 0o400 } },
    { SecretID: "other", SecretName: "x", File: { Name: "x", UID: "0", GID: "0", Mode: 0o444 } },
  ]);
  assert.equal(spec.TaskTemplate?.ContainerSpec?.Secrets?.[0]?.SecretID, "old", "input untouched");
  assert.equal(repointSecret(spec, new Set(["nope"]), { ID: "n", Name: "n" }), undefined);
});
