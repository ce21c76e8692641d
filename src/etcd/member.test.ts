import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Etcd3 } from "etcd3";
import { MemoryLogger } from "../base/index.ts";
import { defaultEtcdMemberConfig } from "./config.ts";
import { EtcdMember } from "./member.ts";

const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("EtcdMember", () => {
  let dir: string;
  let member: EtcdMember;
  const log = new MemoryLogger();

  before(async () => {
    assert.ok(existsSync("/usr/bin/etcd"), "/usr/bin/etcd is missing: install Debian's etcd-server");
    dir = await mkdtemp(join(tmpdir(), "shoal-etcd-member-"));
    member = new EtcdMember(
      {
        ...defaultEtcdMemberConfig("m1", dir),
        clientPort: 0,
        peerPort: 0,
        restartBackoff: { initialMs: 50, maxMs: 500, factor: 2 },
      },
      log,
    );
  });
  after(async () => {
    await member?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("starts, serves, survives kill -9, stops cleanly", { timeout: 60_000 }, async () => {
    try {
      await scenario();
    } catch (err) {
      for (const l of log.lines.slice(-40)) console.error(l);
      throw err;
    }
  });

  async function scenario(): Promise<void> {
    await member.start();
    assert.equal(member.status.state, "running");
    const client = new Etcd3({ hosts: member.clientUrl });
    try {
      await client.put("/k").value("v1");
      assert.equal(await client.get("/k").string(), "v1");

      const pid = member.pid;
      assert.ok(alive(pid));
      process.kill(pid!, "SIGKILL");
      const deadline = Date.now() + 15_000;
      while (!(member.status.state === "running" && member.pid !== pid && member.pid !== undefined)) {
        assert.ok(Date.now() < deadline, `not restarted: ${JSON.stringify(member.status)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(member.status.restarts, 1);
      assert.equal(await client.get("/k").string(), "v1");

      // reload: a new process (so it reads its files again), same data, no second restart loop.
      const before = member.pid;
      await member.reload();
      assert.equal(member.status.state, "running");
      assert.notEqual(member.pid, before);
      assert.ok(!alive(before));
      assert.equal(member.status.restarts, 2);
      assert.equal(await client.get("/k").string(), "v1");
    } finally {
      client.close();
    }

    const pid = member.pid;
    await member.stop();
    await member.stop();
    assert.equal(member.status.state, "stopped");
    assert.ok(!alive(pid));
    assert.ok(log.lines.some((l) => l.level === "debug" && typeof l.etcd === "string"));

    await member.wipe();
    assert.ok(!existsSync(member.dataDir));
  }
});

describe("EtcdMember restart loop", () => {
  test("an etcd that keeps failing after a crash is restarted once per backoff step", {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-etcd-flaky-"));
    // etcd the first time, then a process that dies at once, as a member that cannot rejoin does
    const wrapper = join(dir, "etcd");
    await writeFile(
      wrapper,
      `#!/bin/sh\nif [ -e "${dir}/ran" ]; then exit 1; fi\ntouch "${dir}/ran"\nexec /usr/bin/etcd "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    const log = new MemoryLogger();
    const flaky = new EtcdMember(
      {
        ...defaultEtcdMemberConfig("m2", join(dir, "data")),
        binary: wrapper,
        dieWithParent: false,
        clientPort: 0,
        peerPort: 0,
        restartBackoff: { initialMs: 100, maxMs: 100, factor: 1 },
      },
      log,
    );
    try {
      await flaky.start();
      process.kill(flaky.pid!, "SIGKILL");
      await new Promise((r) => setTimeout(r, 2000));
      // one loop: ≈ 2000 / (100 ms backoff + the start) restarts; doubling loops would give thousands
      const { restarts, state } = flaky.status;
      assert.equal(state, "restarting");
      assert.ok(restarts >= 3 && restarts <= 25, `restarts in 2 s: ${restarts}`);
    } finally {
      await flaky.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
