/**
 * Issue: rolling updates, start-first, rollback. The real docker CLI against a real shoal daemon
 * and dockerd: `service update` (env, --force, parallelism/start-first), a failing update that
 * rolls back on its own, one that pauses, and `service rollback`, with the CLI's progress and
 * `UpdateStatus` as Swarm shows them.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { hostDocker, serviceContainers } from "../helpers/docker.ts";
import { ShoalDaemon } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const SVC = "updweb";

before(() => {
  // Fails loudly when dockerd cannot be started: these tests need it.
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

interface Status {
  State?: string;
  Message?: string;
  StartedAt?: string;
  CompletedAt?: string;
}

describe("service update with the docker CLI", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  const ok = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}\n${res.stdout.slice(-1500)}`);
    return res.stdout;
  };
  const inspect = async (format: string) =>
    (await ok(["service", "inspect", SVC, "--format", format])).trim();
  const updateStatus = async (): Promise<Status> => JSON.parse(await inspect("{{json .UpdateStatus}}")) ?? {};
  /** Env of the containers of the tasks desired running (read from dockerd itself). */
  const liveEnvs = async (): Promise<string[][]> => {
    const ids = (await ok(["service", "ps", SVC, "-q", "--filter", "desired-state=running"])).split("\n");
    const containers = serviceContainers(nodeId, SVC);
    const envs: string[][] = [];
    for (const c of containers) {
      const [task, env] = hostDocker([
        "inspect",
        c,
        "--format",
        '{{index .Config.Labels "com.docker.swarm.task.id"}} {{json .Config.Env}}',
      ]).split(" ", 2);
      if (ids.some((id) => id && task?.startsWith(id))) envs.push(JSON.parse(env ?? "[]"));
    }
    return envs;
  };

  before(async () => {
    nodeId = await daemon.startSwarm();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId, [SVC]);
  });

  test("create", async () => {
    const out = await ok([
      "service",
      "create",
      "--name",
      SVC,
      "--replicas",
      "3",
      "--stop-grace-period",
      "1s",
      "--update-monitor",
      "2s",
      "--rollback-monitor",
      "2s",
      "busybox:local",
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/www",
    ]);
    assert.match(out, /verify: Service (\w+ )?converged/);
    assert.equal(await inspect("{{json .UpdateStatus}}"), "null");
  });

  test("--env-add rolls every task; the CLI's progress finishes; UpdateStatus completed", async () => {
    const out = await ok(["service", "update", "--env-add", "A=1", SVC]);
    assert.match(out, /verify: Service (\w+ )?converged/);
    const s = await updateStatus();
    assert.equal(s.State, "completed");
    assert.equal(s.Message, "update completed");
    assert.ok(s.StartedAt && s.CompletedAt && s.StartedAt < s.CompletedAt);
    const envs = await liveEnvs();
    assert.equal(envs.length, 3);
    assert.ok(envs.every((e) => e.includes("A=1")));
  });

  test("--image --force replaces every task", async () => {
    const before = (await ok(["service", "ps", SVC, "-q", "--filter", "desired-state=running"]))
      .trim()
      .split("\n");
    await ok(["service", "update", "--image", "busybox:local", "--force", SVC]);
    const after = (await ok(["service", "ps", SVC, "-q", "--filter", "desired-state=running"]))
      .trim()
      .split("\n");
    assert.equal(after.length, 3);
    assert.ok(after.every((id) => !before.includes(id)));
    assert.equal((await updateStatus()).State, "completed");
  });

  test("--update-parallelism 2 --update-order start-first", async () => {
    await ok([
      "service",
      "update",
      "--update-parallelism",
      "2",
      "--update-order",
      "start-first",
      "--env-add",
      "B=2",
      SVC,
    ]);
    assert.equal(
      await inspect("{{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Order}}"),
      "2 start-first",
    );
    assert.equal((await updateStatus()).State, "completed");
    const envs = await liveEnvs();
    assert.equal(envs.length, 3);
    assert.ok(envs.every((e) => e.includes("B=2")));
  });

  test("a failing update with --update-failure-action rollback rolls back on its own", async () => {
    const res = await daemon.docker([
      "service",
      "update",
      "--args",
      'sh -c "exit 1"',
      "--update-failure-action",
      "rollback",
      SVC,
    ]);
    // The CLI prints the rollback_started message only if one of its 200 ms polls lands while the
    // rollback runs; on a loaded machine it may see only the completion.
    assert.match(
      res.stdout,
      /rollback: (update rolled back due to failure or early termination of task \w+|rollback completed)/,
    );
    let s = await updateStatus();
    for (let i = 0; i < 100 && s.State !== "rollback_completed"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await updateStatus();
    }
    assert.equal(s.State, "rollback_completed");
    assert.equal(s.Message, "rollback completed");
    assert.equal(
      await inspect("{{json .Spec.TaskTemplate.ContainerSpec.Args}}"),
      '["httpd","-f","-p","80","-h","/www"]',
    );
    assert.equal(await inspect("{{json .PreviousSpec}}"), "null");
  });

  test("docker service rollback: refused without a previous spec, else swaps back", async () => {
    const refused = await daemon.docker(["service", "rollback", SVC]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /does not have a previous spec/);
    await ok(["service", "update", "--env-add", "C=3", SVC]);
    const out = await ok(["service", "rollback", SVC]);
    assert.match(out, /rollback: manually requested rollback/);
    const s = await updateStatus();
    assert.equal(s.State, "rollback_completed");
    const envs = await liveEnvs();
    assert.equal(envs.length, 3);
    assert.ok(envs.every((e) => e.includes("B=2") && !e.includes("C=3")));
  });

  test("a failing update with failure action pause: the CLI fails with Swarm's message", async () => {
    const res = await daemon.docker([
      "service",
      "update",
      "--update-order",
      "stop-first",
      "--args",
      'sh -c "exit 1"',
      "--update-failure-action",
      "pause",
      SVC,
    ]);
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /service update paused: update paused due to failure or early termination of task \w+/,
    );
    const s = await updateStatus();
    assert.equal(s.State, "paused");
    assert.match(s.Message ?? "", /^update paused due to failure or early termination of task \w+$/);
  });
});
