/**
 * The executor against the machine's real dockerd (Debian's 20.10) and the local busybox image.
 * Every container carries a per-run test label and a per-run node ID; all are removed at the end.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { DockerEngine, Executor, type TaskStatus } from "../../src/agent/executor/index.ts";
import type { SwarmTask, TaskStateName } from "../../src/api/index.ts";
import { MemoryLogger, SystemClock } from "../../src/base/index.ts";

const RUN = randomBytes(4).toString("hex");
const TEST_LABEL = "shoal.test.executor";
const NODE = `itnode${RUN}`;
const IMAGE = "busybox:local";

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

function inspect(name: string): Record<string, unknown> & { Id: string; State: Record<string, unknown> } {
  return JSON.parse(docker("inspect", name))[0];
}

let seq = 0;
function task(spec: Record<string, unknown>, over: Partial<SwarmTask> = {}): SwarmTask {
  seq++;
  return {
    ID: `t${RUN}x${seq}`,
    ServiceID: `svc${RUN}`,
    NodeID: over.NodeID ?? NODE,
    Slot: seq,
    DesiredState: "running",
    Status: { State: "assigned" },
    ServiceAnnotations: { Name: `it-${RUN}` },
    Spec: { ContainerSpec: { Image: IMAGE, Labels: { [TEST_LABEL]: RUN }, ...spec } },
    ...over,
  };
}

class Harness {
  readonly statuses = new Map<string, TaskStatus[]>();
  readonly logger = new MemoryLogger();
  readonly executor: Executor;

  constructor(nodeId: string) {
    this.executor = new Executor({
      engine: new DockerEngine(),
      nodeId,
      clock: new SystemClock(),
      logger: this.logger,
      onStatus: (id, s) => this.statuses.set(id, [...(this.statuses.get(id) ?? []), s]),
    });
  }

  last(id: string): TaskStatus | undefined {
    return this.statuses.get(id)?.at(-1);
  }

  /** Polls until the task reaches `state`; on timeout reports the states it saw. */
  async until(id: string, state: TaskStateName, ms = 15_000): Promise<TaskStatus> {
    const end = Date.now() + ms;
    for (;;) {
      const s = this.statuses.get(id)?.find((x) => x.State === state);
      if (s) return s;
      if (Date.now() > end) {
        const seen = (this.statuses.get(id) ?? [])
          .map((x) => `${x.State}(${x.Err ?? x.Message})`)
          .join(" → ");
        throw new Error(`task ${id} did not reach ${state} in ${ms} ms; saw: ${seen || "nothing"}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const harnesses: Harness[] = [];
function harness(nodeId = NODE): Harness {
  const h = new Harness(nodeId);
  harnesses.push(h);
  return h;
}

before(() => {
  try {
    execFileSync("bash", ["scripts/start-dockerd.sh"], { stdio: "inherit" });
    if (!docker("images", "-q", IMAGE))
      execFileSync("bash", ["scripts/make-test-image.sh"], { stdio: "inherit" });
  } catch (err) {
    throw new Error(`dockerd is not available for the executor integration test: ${(err as Error).message}`);
  }
});

after(async () => {
  await Promise.all(harnesses.map((h) => h.executor.stop()));
  const ids = docker("ps", "-aq", "--filter", `label=${TEST_LABEL}=${RUN}`).split("\n").filter(Boolean);
  if (ids.length) docker("rm", "-fv", ...ids);
});

describe("executor on the real dockerd", { concurrency: false }, () => {
  test("a healthcheck holds the task in starting until healthy; name and labels are Swarm's", async () => {
    const h = harness();
    const t = task({
      Args: ["httpd", "-f", "-p", "80", "-h", "/www"],
      Healthcheck: { Test: ["CMD-SHELL", "wget -qO- localhost/"], Interval: 1e9, Timeout: 3e9, Retries: 3 },
    });
    await h.executor.assign([t]);
    const starting = await h.until(t.ID, "starting");
    const running = await h.until(t.ID, "running");
    const name = `it-${RUN}.${t.Slot}.${t.ID}`;
    const c = inspect(name);
    assert.equal((c.State.Health as { Status: string }).Status, "healthy");
    assert.ok(
      Date.parse(running.Timestamp!) - Date.parse(starting.Timestamp!) >= 500,
      "running waited for the first check",
    );
    assert.equal(running.Message, "started");
    assert.equal(running.ContainerStatus?.ContainerID, c.Id);
    assert.ok((running.ContainerStatus?.PID ?? 0) > 0);
    const labels = (c.Config as { Labels: Record<string, string> }).Labels;
    assert.deepEqual(
      Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith("com.docker.swarm"))),
      {
        "com.docker.swarm.node.id": NODE,
        "com.docker.swarm.service.id": `svc${RUN}`,
        "com.docker.swarm.service.name": `it-${RUN}`,
        "com.docker.swarm.task": "",
        "com.docker.swarm.task.id": t.ID,
        "com.docker.swarm.task.name": name,
      },
    );
    assert.equal((c.HostConfig as { RestartPolicy: { Name: string } }).RestartPolicy.Name, "no");
  });

  test("an unhealthy container is stopped and the task fails", async () => {
    const h = harness();
    const t = task({
      Args: ["sleep", "3600"],
      StopGracePeriod: 1e9,
      Healthcheck: { Test: ["CMD-SHELL", "exit 1"], Interval: 5e8, Timeout: 1e9, Retries: 1 },
    });
    await h.executor.assign([t]);
    const failed = await h.until(t.ID, "failed");
    assert.equal(failed.Err, "task: non-zero exit (137): dockerexec: unhealthy container");
    assert.ok(!h.statuses.get(t.ID)?.some((s) => s.State === "running"), "never reported running");
  });

  test("service logs: the container's stdout and stderr lines", async () => {
    const h = harness();
    const t = task({ Args: ["sh", "-c", "echo out 1; echo err 1 >&2; sleep 3600"] });
    await h.executor.assign([t]);
    await h.until(t.ID, "running");
    await new Promise((r) => setTimeout(r, 300));
    const lines: string[] = [];
    for await (const l of h.executor.logs(t.ID, { stdout: true, stderr: true })) {
      lines.push(`${l.stream}:${l.line.toString()}`);
    }
    assert.deepEqual(lines.sort(), ["stderr:err 1\n", "stdout:out 1\n"]);
  });

  test("sh -c 'exit 3' fails with Swarm's message and exit code", async () => {
    const h = harness();
    const t = task({ Args: ["sh", "-c", "exit 3"] });
    await h.executor.assign([t]);
    const failed = await h.until(t.ID, "failed");
    assert.equal(failed.Err, "task: non-zero exit (3)");
    assert.equal(failed.ContainerStatus?.ExitCode, 3);
  });

  test("killing the container fails the task", async () => {
    const h = harness();
    const t = task({ Args: ["sleep", "3600"] });
    await h.executor.assign([t]);
    const running = await h.until(t.ID, "running");
    docker("kill", running.ContainerStatus!.ContainerID!);
    const failed = await h.until(t.ID, "failed");
    assert.equal(failed.Err, "task: non-zero exit (137)");
  });

  test("a recreated executor adopts its running container without restarting it", async () => {
    const node = `${NODE}adopt`; // a node of its own: adoption sees only this node's containers
    const h1 = harness(node);
    const keep = task({ Args: ["sleep", "3600"] }, { NodeID: node });
    const gone = task({ Args: ["sleep", "3600"] }, { NodeID: node });
    await h1.executor.assign([keep, gone]);
    const running = await h1.until(keep.ID, "running");
    await h1.until(gone.ID, "running");
    await h1.executor.stop();
    const before = inspect(running.ContainerStatus!.ContainerID!);

    const h2 = harness(node);
    const found = await h2.executor.adopt();
    assert.deepEqual(found.map((c) => c.taskId).sort(), [gone.ID, keep.ID].sort());
    await h2.executor.assign([{ ...keep, Status: running }]);
    const goneName = `it-${RUN}.${gone.Slot}.${gone.ID}`;
    const deadline = Date.now() + 15_000;
    while (docker("ps", "-aq", "--filter", `name=${goneName}`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      docker("ps", "-aq", "--filter", `name=${goneName}`),
      "",
      "the orphaned container was removed",
    );
    const now = inspect(running.ContainerStatus!.ContainerID!);
    assert.equal(now.Id, before.Id);
    assert.equal(now.State.StartedAt, before.State.StartedAt, "not restarted");
    assert.equal(now.State.Status, "running");
    assert.equal(h2.last(keep.ID), undefined, "nothing new to report");
  });

  test("shutdown respects StopGracePeriod", async () => {
    const h = harness();
    // sleep as PID 1 ignores SIGTERM: only the SIGKILL after the grace period stops it
    const t = task({ Args: ["sleep", "3600"], StopGracePeriod: 2e9 });
    await h.executor.assign([t]);
    await h.until(t.ID, "running");
    const t0 = Date.now();
    await h.executor.assign([{ ...t, DesiredState: "shutdown" }]);
    const down = await h.until(t.ID, "shutdown");
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1800 && elapsed < 8000, `stopped after ${elapsed} ms`);
    assert.equal(down.Message, "shutdown");
    const c = inspect(`it-${RUN}.${t.Slot}.${t.ID}`);
    assert.equal(c.State.ExitCode, 137);
    // removed from the assignment set: the container goes too
    await h.executor.assign([]);
    await h.executor.stop();
    assert.equal(docker("ps", "-aq", "--filter", `name=it-${RUN}.${t.Slot}.${t.ID}`), "");
  });

  test("a missing image is rejected with a clear message", async () => {
    const h = harness();
    const t = task({ Image: "nosuch:img" });
    await h.executor.assign([t]);
    const rejected = await h.until(t.ID, "rejected", 60_000);
    assert.match(rejected.Err ?? "", /^No such image: nosuch:img/);
    assert.equal(rejected.Message, "preparing");
  });
});
