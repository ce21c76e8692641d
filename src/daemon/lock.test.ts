import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { lockDataDir } from "./lock.ts";

const dataDir = () => mkdtempSync(join(tmpdir(), "shoal-lock-"));

test("a live daemon's pid file refuses a second start; released, the dir locks again", () => {
  const dir = dataDir();
  try {
    const release = lockDataDir(dir);
    writeFileSync(join(dir, "shoal.pid"), `${process.ppid}\n`);
    assert.throws(() => lockDataDir(dir), /another shoal daemon \(pid \d+\) is already running/);
    release();
    lockDataDir(dir)();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pid file left by a killed daemon not yet reaped (a zombie) is taken over", async () => {
  const dir = dataDir();
  // a child killed with SIGKILL stays a zombie until this process reaps it; node reaps on its
  // next turn of the event loop, so the check runs synchronously right after the process died
  const child = spawn("sh", ["-c", "kill -9 $$"], { stdio: "ignore" });
  try {
    const pid = child.pid;
    assert.ok(pid);
    const deadline = Date.now() + 5000;
    while (!readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")) {
      assert.ok(Date.now() < deadline, "the child never became a zombie");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    writeFileSync(join(dir, "shoal.pid"), `${pid}\n`);
    const release = lockDataDir(dir);
    release();
  } finally {
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve),
    );
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a pid file whose pid now names another process (pid reuse) is taken over", () => {
  const dir = dataDir();
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    // The live process that wrote it, by pid and start time: refused.
    writeFileSync(join(dir, "shoal.pid"), `${process.ppid} ${start}\n`);
    assert.throws(() => lockDataDir(dir), /another shoal daemon \(pid \d+\) is already running/);
    // The same pid with another start time: a dead daemon's file, the pid since given to another process.
    writeFileSync(join(dir, "shoal.pid"), `${process.ppid} ${Number(start) + 1}\n`);
    const release = lockDataDir(dir);
    assert.match(readFileSync(join(dir, "shoal.pid"), "utf8"), new RegExp(`^${process.pid} \\d+\\n$`));
    release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
