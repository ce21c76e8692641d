import assert from "node:assert/strict";
import { test } from "node:test";
import type { StackClient } from "./stack-client.ts";
import { digestWarning, resolveStackImage, withDigest } from "./stack-image.ts";

const DIGEST = "sha256:a594ee3c4b704fff388f9b77931bb4054f64df441e4bc882605b34d1115482b7";

/** A client whose distribution inspect knows `known` images; records the paths asked. */
function registry(known: string[]): { client: StackClient; asked: string[] } {
  const asked: string[] = [];
  const client = {
    call: async (_method: string, path: string) => {
      asked.push(path);
      const name = path.replace(/^\/distribution\//, "").replace(/\/json$/, "");
      return known.includes(name)
        ? { status: 200, body: { Descriptor: { digest: DIGEST } } }
        : { status: 404, body: { message: "manifest unknown" } };
    },
  } as unknown as StackClient;
  return { client, asked };
}

const current = (image: string, pinned: string) => ({
  Spec: { Labels: { "com.docker.stack.image": image }, TaskTemplate: { ContainerSpec: { Image: pinned } } },
});

test("withDigest keeps the tag (a registry port is no tag) and names latest when there is none", () => {
  assert.equal(withDigest("busybox", DIGEST), `busybox:latest@${DIGEST}`);
  assert.equal(withDigest("reg:5000/busybox", DIGEST), `reg:5000/busybox:latest@${DIGEST}`);
  assert.equal(withDigest("reg:5000/busybox:1.36", DIGEST), `reg:5000/busybox:1.36@${DIGEST}`);
});

test("always: pinned when the registry answers; the docker CLI's warning and the plain image when not", async () => {
  const { client } = registry(["reg:5000/web:1"]);
  const warnings: string[] = [];
  const warn = (w: string) => warnings.push(w);
  assert.equal(
    await resolveStackImage(client, "reg:5000/web:1", "always", undefined, warn),
    `reg:5000/web:1@${DIGEST}`,
  );
  assert.equal(await resolveStackImage(client, "busybox:local", "always", undefined, warn), "busybox:local");
  assert.deepEqual(warnings, [digestWarning("busybox:local")]);
  assert.match(
    warnings[0] ?? "",
    /^image busybox:local could not be accessed on a registry to record\nits digest/,
  );
});

test("an image given with a digest is sent as it is, without a lookup", async () => {
  const { client, asked } = registry([]);
  const pinned = `web:1@${DIGEST}`;
  assert.equal(await resolveStackImage(client, pinned, "always", undefined, () => assert.fail()), pinned);
  assert.deepEqual(asked, []);
});

test("changed and never: an unchanged image keeps the current pinned one; a changed one", async () => {
  const { client, asked } = registry(["web:2"]);
  const old = current("web:1", `web:1@${DIGEST}`);
  const warn = () => assert.fail("no lookup, no warning");
  assert.equal(await resolveStackImage(client, "web:1", "changed", old, warn), `web:1@${DIGEST}`);
  assert.equal(await resolveStackImage(client, "web:1", "never", old, warn), `web:1@${DIGEST}`);
  assert.equal(await resolveStackImage(client, "web:2", "never", old, warn), "web:2");
  assert.deepEqual(asked, []);
  assert.equal(await resolveStackImage(client, "web:2", "changed", old, warn), `web:2@${DIGEST}`);
  assert.deepEqual(asked, ["/distribution/web:2/json"]);
});
