import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { AssignedPayload, SwarmTask } from "../../api/index.ts";
import { silentLogger, VirtualClock } from "../../base/index.ts";
import { FAKE_ENV, FakeExecutor, settle } from "../executor/fake.ts";
import { materialize, payloadMounts, plannedFiles } from "../executor/payload-files.ts";
import { MemoryTaskFiles } from "./memory.ts";
import { AssignedPayloads } from "./payloads.ts";
import { mountTypeAt, TmpfsTaskFiles } from "./tmpfs.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function task(id: string, secrets: string[], configs: string[] = []): SwarmTask {
  return {
    ID: id,
    ServiceID: "svc",
    NodeID: "n1",
    Slot: 1,
    DesiredState: "running",
    Status: { State: "assigned" },
    ServiceAnnotations: { Name: "web" },
    Spec: {
      ContainerSpec: {
        Image: "busybox:local",
        Secrets: secrets.map((s) => ({
          SecretID: s,
          SecretName: `n-${s}`,
          File: { Name: `n-${s}`, UID: "0", GID: "0", Mode: 0o444 },
        })),
        Configs: configs.map((c) => ({
          ConfigID: c,
          ConfigName: `n-${c}`,
          File: { Name: `/etc/${c}.conf`, UID: "1", GID: "2", Mode: 0o440 },
        })),
      },
    },
  };
}

describe("AssignedPayloads", () => {
  test("folds messages and restricts each task to what it references", () => {
    const held = new AssignedPayloads();
    held.apply({
      kind: "complete",
      tasks: [],
      removed: [],
      secrets: [
        { ID: "s1", Name: "one", Data: b64("first") },
        { ID: "s2", Name: "two", Data: b64("second") },
      ],
      configs: [{ ID: "c1", Name: "conf", Data: b64("conf") }],
    });
    const view = held.forTask(task("t1", ["s1"]));
    assert.equal(view.secret("s1")?.toString(), "first");
    assert.equal(view.secret("s2"), undefined, "not referenced by t1");
    assert.equal(view.config("c1"), undefined, "not referenced by t1");
    held.apply({ kind: "incremental", tasks: [], removed: [], removedSecrets: ["s1"] });
    assert.equal(view.secret("s1"), undefined, "the view is live: removed payloads vanish");
    held.apply({ kind: "complete", tasks: [], removed: [] });
    assert.deepEqual(held.counts, { secrets: 0, configs: 0 });
  });
});

describe("payload files", () => {
  test("targets, owners and modes as moby places them", () => {
    const t = task("t1", ["s1"], ["c1"]);
    const spec = t.Spec!.ContainerSpec!;
    spec.Secrets!.push({
      SecretID: "s1",
      SecretName: "n-s1",
      File: { Name: "/run/secrets/pw", UID: "1000", GID: "1000", Mode: 0o400 },
    });
    spec.Configs!.push({
      ConfigID: "c1",
      ConfigName: "plain",
      File: { Name: "plain", UID: "0", GID: "0", Mode: 0o444 },
    });
    const files = plannedFiles(spec);
    assert.deepEqual(
      files.map((f) => [f.name, f.target, f.uid, f.gid, f.mode.toString(8)]),
      [
        ["secret-0", "/run/secrets/n-s1", 0, 0, "444"],
        ["secret-1", "/run/secrets/pw", 1000, 1000, "400"],
        ["config-0", "/etc/c1.conf", 1, 2, "440"],
        ["config-1", "/plain", 0, 0, "444"],
      ],
    );
    assert.deepEqual(payloadMounts(files.slice(0, 1), "/run/shoal/secrets/t1"), [
      { Type: "bind", Source: "/run/shoal/secrets/t1/secret-0", Target: "/run/secrets/n-s1", ReadOnly: true },
    ]);
  });

  test("a payload the node does not hold rejects the task, naming it but never showing data", () => {
    const files = plannedFiles(task("t1", ["s1"]).Spec!.ContainerSpec!);
    assert.throws(() => materialize(files, undefined), /unable to get secret n-s1 \(s1\)/);
  });
});

/** A fake executor on node n1 writing task files to memory, and the node's assigned `secrets`. */
function fakeNode(secrets: AssignedPayload[]) {
  const files = new MemoryTaskFiles();
  const clock = new VirtualClock();
  const executor = new FakeExecutor({
    clock,
    nodeId: "n1",
    logger: silentLogger(),
    onStatus: () => undefined,
    files,
  });
  const held = new AssignedPayloads();
  held.apply({ kind: "complete", tasks: [], removed: [], secrets });
  return { files, clock, executor, held };
}

describe("the executor writes files for its tasks only and removes them with the container", () => {
  test("files follow the task's lifecycle; other secrets never reach it", async () => {
    const { files, executor, held } = fakeNode([
      { ID: "s1", Name: "one", Data: b64("pw1") },
      { ID: "s2", Name: "two", Data: b64("pw2") },
    ]);
    const t = task("t1", ["s1"]);
    await executor.assign([t], held);
    await settle();
    const written = files.tasks.get("t1");
    assert.deepEqual(
      written?.map((f) => [f.name, f.data.toString()]),
      [["secret-0", "pw1"]],
    );
    const req = executor.engine.container("web.1.t1")?.req;
    assert.deepEqual(req?.body.HostConfig.Mounts, [
      { Type: "bind", Source: "/run/shoal/secrets/t1/secret-0", Target: "/run/secrets/n-s1", ReadOnly: true },
    ]);
    await executor.assign([], held);
    await executor.stop();
    assert.equal(files.tasks.has("t1"), false);
  });
});

describe("a task that ends releases its files before its container is removed (as moby's Cleanup)", () => {
  test("complete → files gone, container kept", async () => {
    const { files, clock, executor, held } = fakeNode([{ ID: "s1", Name: "one", Data: b64("pw1") }]);
    const t = task("t2", ["s1"]);
    t.Spec!.ContainerSpec!.Env = [`${FAKE_ENV}={"runMs":100,"exitCode":0}`];
    await executor.assign([t], held);
    await settle();
    assert.equal(files.tasks.has("t2"), true);
    clock.advance(200);
    await settle(50);
    assert.equal(executor.runner("t2")?.status.State, "complete");
    assert.equal(files.tasks.has("t2"), false);
    assert.ok(executor.engine.container("web.1.t2"), "the container stays until its task is deleted");
    await executor.stop();
  });
});

describe("TmpfsTaskFiles (needs root)", { skip: process.getuid?.() !== 0 }, () => {
  test("mounts a tmpfs per task, writes owner and mode, read-only, and removes it", async () => {
    const root = mkdtempSync(join(tmpdir(), "shoal-secrets-"));
    try {
      const fs = new TmpfsTaskFiles(root);
      await fs.write("task1", [
        { name: "secret-0", data: Buffer.from("s3cr3t"), uid: 1000, gid: 1001, mode: 0o400 },
      ]);
      const dir = fs.dirOf("task1");
      const info = readFileSync("/proc/self/mountinfo", "utf8");
      assert.equal(mountTypeAt(info, dir), "tmpfs");
      const line = info.split("\n").find((l) => l.split(" ")[4] === dir) ?? "";
      assert.match(line, /\bro\b/);
      assert.match(line, /nosuid/);
      assert.match(line, /nodev/);
      assert.match(line, /noexec/);
      const st = statSync(join(dir, "secret-0"));
      assert.equal(st.uid, 1000);
      assert.equal(st.gid, 1001);
      assert.equal(st.mode & 0o777, 0o400);
      assert.equal(readFileSync(join(dir, "secret-0"), "utf8"), "s3cr3t");
      assert.throws(() => writeFileSync(join(dir, "x"), "y"), /EROFS|read-only/);
      await fs.write("task1", [
        { name: "secret-0", data: Buffer.from("again"), uid: 0, gid: 0, mode: 0o444 },
      ]);
      assert.equal(readFileSync(join(dir, "secret-0"), "utf8"), "again");
      await fs.remove("task1");
      assert.equal(mountTypeAt(readFileSync("/proc/self/mountinfo", "utf8"), dir), undefined);
      assert.throws(() => statSync(dir), /ENOENT/);
      await fs.remove("task1");
    } finally {
      execFileSync("sh", ["-c", `grep -q " ${root}/" /proc/self/mountinfo && umount -R ${root}/* || true`]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("mountTypeAt reads mountinfo, spaces escaped", () => {
    const info = [
      "22 1 0:21 / /run rw,nosuid - tmpfs tmpfs rw",
      "99 22 0:50 / /run/a\\040b rw - tmpfs tmpfs rw",
      "100 22 8:1 / /data rw - ext4 /dev/sda1 rw",
    ].join("\n");
    assert.equal(mountTypeAt(info, "/run/a b"), "tmpfs");
    assert.equal(mountTypeAt(info, "/data"), "ext4");
    assert.equal(mountTypeAt(info, "/nope"), undefined);
  });
});
