/**
 * Issue: services on one node. The real docker CLI against a real shoal daemon and dockerd:
 * create (with the CLI's progress), ls/ps/inspect, scale, logs, healing after a kill, global and
 * job modes, removal, bad input, and a daemon restart that adopts running containers.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { hostDocker, serviceContainers } from "../helpers/docker.ts";
import { DOCKER_28, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

/** The line numbers in `talker`'s followed, timestamped logs from the task in this slot. */
const followedLines = (out: string, slot: number): number[] =>
  [...out.matchAll(/^\d{4}-\d\d-\d\dT[\d:.]+Z talker\.(\d)\.[0-9a-z]+@\S+\s+\| line (\d+)$/gm)]
    .filter((m) => Number(m[1]) === slot)
    .map((m) => Number(m[2]));

describe("services on one node with the docker CLI", () => {
  const daemon = new ShoalDaemon();
  const ok = async (args: string[], bin?: string) => {
    const res = await daemon.docker(args, bin ? { bin } : {});
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const runningTasks = async (service: string) =>
    (
      await ok([
        "service",
        "ps",
        service,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.CurrentState}}",
      ])
    )
      .split("\n")
      .filter((l) => l.startsWith("Running")).length;
  const containersOf = (service: string) => serviceContainers(nodeId, service);
  let nodeId = "";

  before(async () => {
    nodeId = await daemon.startSwarm();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId);
  });

  test("create waits with the CLI's progress until healthy tasks run", async () => {
    const out = await ok([
      "service",
      "create",
      "--name",
      "web",
      "--replicas",
      "3",
      "--health-cmd",
      "wget -qO- localhost/",
      "--health-interval",
      "1s",
      "--label",
      "tier=front",
      "--container-label",
      "c=1",
      "--env",
      "MODE=test",
      "busybox:local",
      "httpd",
      "-f",
      "-p",
      "80",
      "-h",
      "/www",
    ]);
    assert.match(out, /verify: Service (\w+ )?converged/);
    assert.equal(await runningTasks("web"), 3);
    const ls = await ok(["service", "ls", "--format", "{{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}"]);
    assert.match(ls, /^web replicated 3\/3 busybox:local$/m);
    const names = (await ok(["service", "ps", "web", "--format", "{{.Name}}"])).trim().split("\n").sort();
    assert.deepEqual(names, ["web.1", "web.2", "web.3"]);
  });

  test("containers carry Swarm's names, labels, env and healthcheck", async () => {
    const [id] = containersOf("web");
    const inspect = JSON.parse(hostDocker(["inspect", id as string]))[0] as {
      Name: string;
      Config: { Labels: Record<string, string>; Env: string[]; Healthcheck?: { Test: string[] } };
      State: { Health?: { Status: string } };
    };
    assert.match(inspect.Name, /^\/web\.[123]\.[0-9a-z]{25}$/);
    assert.equal(inspect.Config.Labels["com.docker.swarm.service.name"], "web");
    assert.equal(inspect.Config.Labels["com.docker.swarm.node.id"], nodeId);
    assert.equal(inspect.Config.Labels.c, "1");
    assert.ok(inspect.Config.Env.includes("MODE=test"));
    assert.deepEqual(inspect.Config.Healthcheck?.Test, ["CMD-SHELL", "wget -qO- localhost/"]);
    assert.equal(inspect.State.Health?.Status, "healthy");
  });

  test("inspect and inspect --pretty", async () => {
    const raw = JSON.parse(await ok(["service", "inspect", "web"])) as Array<{
      Spec: { Labels: Record<string, string> };
    }>;
    assert.equal(raw[0]?.Spec.Labels.tier, "front");
    const pretty = await ok(["service", "inspect", "--pretty", "web"]);
    assert.match(pretty, /Name:\s+web/);
    assert.match(pretty, /Replicas:\s+3/);
    const missing = await daemon.docker(["service", "inspect", "nosuch"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no such service: nosuch/i);
  });

  test("scale several services in one command", async () => {
    await ok(["service", "create", "-d", "--name", "api", "busybox:local", "sleep", "100000"]);
    const out = await ok(["service", "scale", "web=5", "api=4"]);
    assert.match(out, /web scaled to 5/);
    assert.match(out, /api scaled to 4/);
    assert.equal(await runningTasks("web"), 5);
    assert.equal(await runningTasks("api"), 4);
    await ok(["service", "scale", "-d", "api=1"]);
    await waitFor("api back to 1 container", async () => containersOf("api").length === 1, 60_000);
  });

  test("a killed container is replaced per the restart policy", async () => {
    const before = containersOf("web");
    hostDocker(["kill", before[0] as string]);
    const history = await waitFor(
      "the killed task failed and a replacement runs",
      async () => {
        const ps = await ok([
          "service",
          "ps",
          "web",
          "--format",
          "{{.DesiredState}} {{.CurrentState}} {{.Error}}",
        ]);
        const replaced =
          (await runningTasks("web")) === 5 && !containersOf("web").includes(before[0] as string);
        return replaced && /Shutdown Failed .*task: non-zero exit \(137\)/.test(ps) ? ps : undefined;
      },
      60_000,
    );
    assert.match(history, /Shutdown Failed/);
  });

  test("logs: multiplexed with task name prefixes, tail and follow", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "talker",
      "--replicas",
      "2",
      "busybox:local",
      "sh",
      "-c",
      "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done",
    ]);
    await waitFor("talker running", async () => (await runningTasks("talker")) === 2, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const tail = await ok(["service", "logs", "--tail", "2", "talker"]);
    const lines = tail.trim().split("\n");
    assert.equal(lines.length, 4, tail);
    for (const l of lines) assert.match(l, /^talker\.[12]\.[0-9a-z]{12}@\S+\s+\| line \d+$/);
    // Followed: the last line of each task, then lines written after the command started, each
    // with the daemon's timestamp, until both tasks have had three.
    const followed = await daemon.follow(
      ["service", "logs", "-f", "--tail", "1", "--timestamps", "talker"],
      (out) => [1, 2].every((slot) => followedLines(out, slot).length >= 3),
      { bin: DOCKER_28, timeoutMs: 20_000 },
    );
    for (const slot of [1, 2]) {
      const numbers = followedLines(followed.stdout, slot);
      assert.ok(
        numbers.length >= 3,
        `task ${slot} in the followed logs:\n${followed.stdout}${followed.stderr}`,
      );
      for (let i = 1; i < numbers.length; i++)
        assert.equal(numbers[i], (numbers[i - 1] ?? 0) + 1, `task ${slot}: ${numbers.join(" ")}`);
    }
  });

  test("global mode runs one task on every eligible node", async () => {
    await ok([
      "service",
      "create",
      "--name",
      "agentsvc",
      "--mode",
      "global",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    const ps = await ok(["service", "ps", "agentsvc", "--format", "{{.Name}} {{.Node}} {{.CurrentState}}"]);
    assert.match(ps.trim(), /^agentsvc\.[0-9a-z]+ \S+ Running/);
    assert.equal(ps.trim().split("\n").length, 1);
    const scale = await daemon.docker(["service", "scale", "agentsvc=3"]);
    assert.notEqual(scale.code, 0);
    assert.match(scale.stderr, /scale can only be used with replicated or replicated-job mode/);
  });

  test("replicated jobs run to completion with bounded concurrency", async () => {
    const out = await ok([
      "service",
      "create",
      "--name",
      "job",
      "--mode",
      "replicated-job",
      "--replicas",
      "5",
      "--max-concurrent",
      "2",
      "busybox:local",
      "sh",
      "-c",
      "sleep 0.3; exit 0",
    ]);
    assert.match(out, /job complete/);
    const states = (await ok(["service", "ps", "job", "--format", "{{.CurrentState}}"])).trim().split("\n");
    assert.equal(states.filter((s) => s.startsWith("Complete")).length, 5);
  });

  test("bad input gets Swarm's errors and creates nothing", async () => {
    const dup = await daemon.docker(["service", "create", "--name", "web", "busybox:local", "true"]);
    assert.match(dup.stderr, /name conflicts with an existing object: service web already exists/);
    const constraint = await daemon.docker([
      "service",
      "create",
      "--name",
      "bad1",
      "--constraint",
      "node.labels.x<>y",
      "busybox:local",
      "true",
    ]);
    assert.notEqual(constraint.code, 0);
    const names = await ok(["service", "ls", "--format", "{{.Name}}"]);
    assert.doesNotMatch(names, /bad1/);
    const rm = await daemon.docker(["service", "rm", "nosuch"]);
    assert.match(rm.stderr, /(No such service: nosuch|service nosuch not found)/);
  });

  test("a restarted daemon adopts running containers; one that died meanwhile is replaced", async () => {
    const before = containersOf("web").sort();
    await daemon.kill("SIGKILL");
    const victim = before[0] as string;
    hostDocker(["kill", victim]);
    await daemon.start();
    await waitFor(
      "web back to 5 running with the survivors untouched",
      async () => {
        const now = containersOf("web");
        return (
          (await runningTasks("web")) === 5 &&
          before.slice(1).every((c) => now.includes(c)) &&
          !now.includes(victim)
        );
      },
      90_000,
    );
  });

  test("service rm shuts tasks down and removes their containers", async () => {
    await ok(["service", "rm", "web", "api", "talker", "agentsvc", "job"]);
    await waitFor(
      "no task containers left",
      async () =>
        hostDocker(["ps", "-aq", "--filter", `label=com.docker.swarm.node.id=${nodeId}`]).trim() === "",
      60_000,
    );
    assert.equal((await ok(["service", "ls", "-q"])).trim(), "");
  });

  test("swarm leave --force removes this node's task containers", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "leftover",
      "--replicas",
      "2",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    await waitFor("leftover running", async () => containersOf("leftover").length === 2, 60_000);
    await ok(["swarm", "leave", "--force"]);
    const left = hostDocker(["ps", "-aq", "--filter", `label=com.docker.swarm.node.id=${nodeId}`]).trim();
    assert.equal(left, "");
  });
});
