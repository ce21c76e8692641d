/**
 * Zero failed requests while tasks come and go (issue #8): a 4-replica web service on an overlay
 * network, a client container on the same network sending requests to the service's VIP name in
 * four bounded loops, during `service update --force` (stop-first, then start-first) and a
 * `service scale` down. Every request must succeed.
 *
 * The backend is made to fail requests whenever shoal gets the order wrong: it exits at once on
 * SIGTERM (the shell's trap; its httpd dies with it, so a request in flight is cut), half of the
 * requests take 1.5 s (a CGI script, so requests are in flight at any moment), and a new task
 * listens only 2 s after its container starts while its healthcheck gates it. Without the drain a
 * stopped task cuts the requests it is serving; without health gating a new task is sent requests
 * before it listens. Measured: the same test with `--label io.shoal.drain-period=0s` on web fails
 * 1–2 requests in each of the three steps. Traffic stays inside this machine's containers and
 * bridges.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { serviceContainers } from "../helpers/docker.ts";
import { backendServiceArgs, RequestLoops } from "../helpers/load.ts";
import { docker, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;
// an unusual subnet, so that other clusters on this dockerd do not overlap it
const SUBNET = "10.213.41.0/24";

describe("zero failed requests during update, start-first update and scale-down", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  let load: RequestLoops;
  const ok = async (args: string[], timeoutMs = 120_000) => {
    const res = await docker(daemon.socket, args, { timeoutMs });
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const containersOf = (service: string) => serviceContainers(nodeId, service);
  const runningTasks = async () =>
    (
      await ok([
        "service",
        "ps",
        "web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}} {{.CurrentState}}",
      ])
    )
      .split("\n")
      .filter((l) => / Running/.test(l))
      .map((l) => l.split(" ")[0] ?? "");
  before(async () => {
    // fails loudly (throws) when dockerd cannot be started
    execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
    nodeId = await daemon.startSwarm();
    await ok(["network", "create", "-d", "overlay", "--attachable", "--subnet", SUBNET, "zd-net"]);
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "web",
      "--network",
      "zd-net",
      "--replicas",
      "4",
      "--update-parallelism",
      "1",
      ...backendServiceArgs(1.5),
    ]);
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "client",
      "--network",
      "zd-net",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    await waitFor("4 web tasks running", async () => (await runningTasks()).length === 4, 90_000);
    await waitFor("the client running", async () => containersOf("client").length === 1, 60_000);
    const client = containersOf("client")[0] as string;
    load = new RequestLoops("unix:///var/run/docker.sock", client, "web");
    await waitFor("the VIP answering", () => load.answers());
  });

  after(async () => {
    await daemon.disposeSwarm(nodeId, ["web", "client"]);
  });

  test("service update --force (stop-first, one at a time): no request fails", async () => {
    const before = await runningTasks();
    await load.during("stop-first update", async () => {
      await ok(["service", "update", "--force", "web"], 240_000);
    });
    const now = await runningTasks();
    assert.equal(now.length, 4);
    assert.ok(
      now.every((id) => !before.includes(id)),
      `every task was replaced: ${before.join(",")} → ${now.join(",")}`,
    );
  });

  test("service update --force --update-order start-first: no request fails", async () => {
    const before = await runningTasks();
    await load.during("start-first update", async () => {
      await ok(["service", "update", "--force", "--update-order", "start-first", "web"], 240_000);
    });
    const now = await runningTasks();
    assert.equal(now.length, 4);
    assert.ok(now.every((id) => !before.includes(id)));
  });

  test("service scale web=2: no request fails; the removed tasks drain as Running/Shutdown", async () => {
    let drainingSeen = false;
    await load.during("scale-down", async () => {
      await ok(["service", "scale", "-d", "web=2"]);
      // while the surplus tasks drain they still report Running, their desired state is Remove
      await waitFor(
        "two tasks draining",
        async () => {
          const rows = (await ok(["service", "ps", "web", "--format", "{{.DesiredState}} {{.CurrentState}}"]))
            .split("\n")
            .filter((l) => /^Remove Running/.test(l));
          if (rows.length === 2) drainingSeen = true;
          return drainingSeen;
        },
        10_000,
      );
      await waitFor("two containers left", async () => containersOf("web").length === 2, 60_000);
    });
    assert.ok(drainingSeen);
  });

  test("the drain label is checked at update: a bad one is refused by name, a good one stored", async () => {
    const bad = await docker(daemon.socket, [
      "service",
      "update",
      "-d",
      "--label-add",
      "io.shoal.drain-period=5",
      "web",
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid label io\.shoal\.drain-period=5: time: missing unit in duration "5"/);
    await ok(["service", "update", "-d", "--label-add", "io.shoal.drain-period=1500ms", "web"]);
    const labels = await ok(["service", "inspect", "web", "--format", "{{json .Spec.Labels}}"]);
    assert.equal(JSON.parse(labels)["io.shoal.drain-period"], "1500ms");
  });
});
