import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { decodeData, MAX_CONFIG_SIZE, MAX_SECRET_SIZE } from "./payload-validate.ts";
import {
  createPayload,
  getPayload,
  listPayloads,
  removePayload,
  servicesUsing,
  updatePayload,
} from "./payloads.ts";
import { createService } from "./services.ts";
import { basicSpec, makeDeps, rejects } from "./test-support.ts";

const rpc = (code: string, desc: string) => `rpc error: code = ${code} desc = ${desc}`;
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");

describe("secret and config validation", () => {
  test("names follow SwarmKit's rule", async () => {
    const deps = makeDeps();
    const nameRule =
      "invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]";
    await rejects(
      () => createPayload(deps, "secret", { Name: "", Data: b64("x") }),
      ErrorCode.InvalidArgument,
      rpc("InvalidArgument", "name must be provided"),
    );
    for (const bad of ["-a", "a-", "a b", "x".repeat(65), "a/b"]) {
      await rejects(
        () => createPayload(deps, "secret", { Name: bad, Data: b64("x") }),
        ErrorCode.InvalidArgument,
        rpc("InvalidArgument", nameRule),
      );
    }
    await createPayload(deps, "secret", { Name: "a.b-c_d", Data: b64("x") });
    await createPayload(deps, "secret", { Name: "x".repeat(64), Data: b64("x") });
  });

  test("secret size: more than 0 and strictly less than 500 KiB; config less than 1000 KiB", async () => {
    const deps = makeDeps();
    const secretMsg = rpc("InvalidArgument", "secret data must be larger than 0 and less than 512000 bytes");
    await rejects(
      () => createPayload(deps, "secret", { Name: "e", Data: "" }),
      ErrorCode.InvalidArgument,
      secretMsg,
    );
    await rejects(
      () => createPayload(deps, "secret", { Name: "big", Data: b64(Buffer.alloc(MAX_SECRET_SIZE)) }),
      ErrorCode.InvalidArgument,
      secretMsg,
    );
    await createPayload(deps, "secret", { Name: "max", Data: b64(Buffer.alloc(MAX_SECRET_SIZE - 1)) });
    await rejects(
      () => createPayload(deps, "config", { Name: "big", Data: b64(Buffer.alloc(MAX_CONFIG_SIZE)) }),
      ErrorCode.InvalidArgument,
      rpc("InvalidArgument", "config data must be larger than 0 and less than 1024000 bytes"),
    );
    await createPayload(deps, "config", { Name: "big", Data: b64(Buffer.alloc(MAX_SECRET_SIZE)) });
  });

  test("drivers and templating are refused with a clear NotImplemented", async () => {
    const deps = makeDeps();
    await assert.rejects(
      () => createPayload(deps, "secret", { Name: "v", Driver: { Name: "vault" } }),
      (err: Error & { code?: string }) =>
        err.code === ErrorCode.NotImplemented &&
        err.message.includes('secret driver "vault" is not supported'),
    );
    await rejects(
      () => createPayload(deps, "secret", { Name: "v", Driver: { Name: "" } }),
      ErrorCode.InvalidArgument,
      rpc("InvalidArgument", "secret driver must have a name"),
    );
    await assert.rejects(
      () => createPayload(deps, "config", { Name: "t", Data: b64("x"), Templating: { Name: "golang" } }),
      (err: Error & { code?: string }) =>
        err.code === ErrorCode.NotImplemented && err.message.includes('templating driver "golang"'),
    );
    await createPayload(deps, "config", { Name: "t", Data: b64("x"), Templating: { Name: "none" } });
  });

  test("bad base64 is refused without echoing it", () => {
    assert.throws(() => decodeData("c2Vj!!!"), /illegal base64 data at input byte 4/);
    assert.deepEqual(decodeData(b64("hello")), Buffer.from("hello"));
  });
});

describe("secret and config objects", () => {
  test("create, inspect and list never show a secret's data; a config's data is shown", async () => {
    const deps = makeDeps();
    const { ID } = await createPayload(deps, "secret", {
      Name: "db_pass",
      Labels: { a: "1" },
      Data: b64("s3cr3t"),
    });
    const s = getPayload(deps, "secret", "db_pass");
    assert.equal(s.ID, ID);
    assert.equal(s.Spec?.Data, undefined);
    assert.deepEqual(s.Spec?.Labels, { a: "1" });
    assert.ok(s.CreatedAt && s.Version?.Index);
    assert.equal(JSON.stringify(listPayloads(deps, "secret")).includes(b64("s3cr3t")), false);
    // the stored object still has it, for the dispatcher
    assert.equal(deps.store.view((tx) => tx.get("secrets", ID))?.Spec?.Data, b64("s3cr3t"));
    await createPayload(deps, "config", { Name: "app", Data: b64("conf") });
    assert.equal(getPayload(deps, "config", "app").Spec?.Data, b64("conf"));
  });

  test("duplicate names conflict (case-insensitive) with Swarm's text", async () => {
    const deps = makeDeps();
    await createPayload(deps, "secret", { Name: "dup", Data: b64("x") });
    await rejects(
      () => createPayload(deps, "secret", { Name: "DUP", Data: b64("y") }),
      ErrorCode.AlreadyExists,
      rpc("AlreadyExists", "secret DUP already exists"),
    );
    // secrets and configs are separate namespaces
    await createPayload(deps, "config", { Name: "dup", Data: b64("x") });
  });

  test("filters: names exact, name and id prefixes OR-ed, labels AND-ed; unknown keys refused", async () => {
    const deps = makeDeps();
    const a = await createPayload(deps, "secret", { Name: "alpha", Labels: { env: "prod" }, Data: b64("x") });
    const b = await createPayload(deps, "secret", {
      Name: "alphabet",
      Labels: { env: "dev" },
      Data: b64("x"),
    });
    const c = await createPayload(deps, "secret", { Name: "beta", Data: b64("x") });
    const names = (f: Record<string, string[]>) =>
      listPayloads(deps, "secret", f)
        .map((s) => s.Spec?.Name)
        .sort();
    assert.deepEqual(names({ names: ["alpha"] }), ["alpha"]);
    assert.deepEqual(names({ name: ["alp"] }), ["alpha", "alphabet"]);
    assert.deepEqual(names({ names: ["alpha"], id: [c.ID.slice(0, 6)] }), ["alpha", "beta"]);
    assert.deepEqual(names({ label: ["env"] }), ["alpha", "alphabet"]);
    assert.deepEqual(names({ name: ["alp"], label: ["env=dev"] }), ["alphabet"]);
    assert.deepEqual(names({ id: [a.ID] }), ["alpha"]);
    assert.ok(b.ID);
    await rejects(
      () => listPayloads(deps, "config", { names: ["x"] }),
      ErrorCode.InvalidArgument,
      "invalid filter 'names'",
    );
  });

  test("update: labels only; identical data accepted; changed data or name refused; stale version", async () => {
    const deps = makeDeps();
    const { ID } = await createPayload(deps, "secret", { Name: "s", Data: b64("one") });
    const v = () => getPayload(deps, "secret", ID).Version?.Index ?? 0;
    await updatePayload(deps, "secret", "s", v(), { Name: "s", Labels: { k: "v" }, Data: b64("one") });
    assert.deepEqual(getPayload(deps, "secret", ID).Spec?.Labels, { k: "v" });
    await updatePayload(deps, "secret", "s", v(), { Name: "s", Labels: {} });
    assert.deepEqual(getPayload(deps, "secret", ID).Spec?.Labels, {});
    const only = rpc("InvalidArgument", "only updates to Labels are allowed");
    await rejects(
      () => updatePayload(deps, "secret", "s", v(), { Name: "s", Data: b64("two") }),
      ErrorCode.InvalidArgument,
      only,
    );
    await rejects(
      () => updatePayload(deps, "secret", "s", v(), { Name: "t" }),
      ErrorCode.InvalidArgument,
      only,
    );
    await rejects(
      () => updatePayload(deps, "secret", "s", v() - 1, { Name: "s" }),
      ErrorCode.SequenceConflict,
      "update out of sequence",
    );
    assert.equal(deps.store.view((tx) => tx.get("secrets", ID))?.Spec?.Data, b64("one"));
  });

  test("remove is refused while a service references it, naming the services", async () => {
    const deps = makeDeps();
    const s = await createPayload(deps, "secret", { Name: "db_pass", Data: b64("x") });
    const c = await createPayload(deps, "config", { Name: "conf", Data: b64("x") });
    const ref = {
      SecretID: s.ID,
      SecretName: "db_pass",
      File: { Name: "db_pass", UID: "0", GID: "0", Mode: 0o444 },
    };
    const cref = {
      ConfigID: c.ID,
      ConfigName: "conf",
      File: { Name: "/conf", UID: "0", GID: "0", Mode: 0o444 },
    };
    for (const name of ["web", "api"]) {
      await createService(
        deps,
        basicSpec(name, {
          TaskTemplate: { ContainerSpec: { Image: "busybox:latest", Secrets: [ref], Configs: [cref] } },
        }),
      );
    }
    assert.equal(deps.store.view((tx) => servicesUsing(tx, "secret", s.ID)).length, 2);
    await assert.rejects(
      () => removePayload(deps, "secret", "db_pass"),
      (err: Error) =>
        /^rpc error: code = InvalidArgument desc = secret 'db_pass' is in use by the following services: (web, api|api, web)$/.test(
          err.message,
        ),
    );
    await assert.rejects(
      () => removePayload(deps, "config", "conf"),
      /config 'conf' is in use by the following services/,
    );
    await rejects(
      () => removePayload(deps, "secret", "nosuch"),
      ErrorCode.NotFound,
      "secret nosuch not found",
    );
    const free = await createPayload(deps, "secret", { Name: "free", Data: b64("x") });
    await removePayload(deps, "secret", free.ID.slice(0, 5));
    await rejects(() => getPayload(deps, "secret", "free"), ErrorCode.NotFound, "secret free not found");
  });
});
