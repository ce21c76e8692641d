/**
 * The single-node overlay data plane with the real docker CLI, a real shoal daemon and dockerd:
 * a swarm network becomes a local bridge with the cluster's subnet, task containers get their
 * allocated addresses, `<service>` resolves to the VIP and `tasks.<service>` to the task addresses
 * through the node's DNS server, and HTTP to the service name is balanced over the replicas by nft
 * DNAT inside the client's netns. Traffic stays inside the containers and bridges on this machine.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { hostDocker, serviceContainers } from "../helpers/docker.ts";
import { ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;
// an unusual subnet, so that other clusters on this dockerd do not overlap it
const SUBNET = "10.213.7.0/24";

before(() => {
  // fails loudly (throws) when dockerd cannot be started
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

describe("overlay networks on one node: bridge, DNS, VIP", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  let networkId = "";
  const ok = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const containersOf = (service: string) => serviceContainers(nodeId, service);
  const exec = (container: string, cmd: string[]) => {
    try {
      return {
        code: 0,
        out: execFileSync("/usr/bin/docker", ["exec", container, ...cmd], { encoding: "utf8" }),
      };
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      return { code: e.status ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
  };

  before(async () => {
    nodeId = await daemon.startSwarm();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId, ["api", "client"]);
  });

  test("services on an overlay: the network is a local bridge with the cluster's subnet", async () => {
    networkId = (await ok(["network", "create", "-d", "overlay", "--subnet", SUBNET, "backend"])).trim();
    const created = await daemon.docker([
      "service",
      "create",
      "-d",
      "--name",
      "api",
      "--network",
      "backend",
      "--replicas",
      "2",
      "busybox:local",
      "sh",
      "-c",
      "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.doesNotMatch(created.stderr, /not implemented yet: tasks get/);
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "client",
      "--network",
      "backend",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    await waitFor(
      "api and client running",
      async () => containersOf("api").length === 2 && containersOf("client").length === 1,
      60_000,
    );
    const local = JSON.parse(hostDocker(["network", "inspect", `shoal-${networkId.slice(0, 12)}`])) as Array<{
      Driver: string;
      IPAM: { Config: Array<{ Subnet: string; Gateway: string }> };
      Options: Record<string, string>;
    }>;
    assert.equal(local[0]?.Driver, "bridge");
    assert.deepEqual(local[0]?.IPAM.Config, [{ Subnet: SUBNET, Gateway: "10.213.7.1" }]);
    assert.equal(local[0]?.Options["com.docker.network.driver.mtu"], "1450");
    const addr = hostDocker([
      "inspect",
      "-f",
      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      containersOf("api")[0]!,
    ]);
    assert.match(addr.trim(), /^10\.213\.7\.\d+$/);
  });

  test("nslookup: api is the VIP, tasks.api the two task addresses", async () => {
    const client = containersOf("client")[0]!;
    const vip = JSON.parse(
      await ok(["service", "inspect", "api", "--format", "{{json .Endpoint.VirtualIPs}}"]),
    ) as Array<{ Addr: string }>;
    const vipAddr = vip[0]!.Addr.split("/")[0]!;
    const taskIps = containersOf("api")
      .map((c) =>
        hostDocker(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c]).trim(),
      )
      .sort();
    const api = await waitFor("nslookup api", async () => {
      const r = exec(client, ["nslookup", "api"]);
      return r.code === 0 && r.out.includes(vipAddr) ? r.out : undefined;
    });
    assert.match(api, new RegExp(`Address: ${vipAddr.replaceAll(".", "\\.")}`));
    const tasks = await waitFor("nslookup tasks.api", async () => {
      const r = exec(client, ["nslookup", "tasks.api"]);
      return r.code === 0 && taskIps.every((ip) => r.out.includes(ip)) ? r.out : undefined;
    });
    for (const ip of taskIps) assert.ok(tasks.includes(ip), tasks);
    const none = exec(client, ["nslookup", "nothere.invalid"]);
    assert.notEqual(none.code, 0, none.out);
  });

  test("wget http://api/ from the client returns ok through the VIP, repeatedly", async () => {
    const client = containersOf("client")[0]!;
    const body = await waitFor("wget api", async () => {
      const r = exec(client, ["timeout", "3", "wget", "-qO-", "http://api/"]);
      return r.code === 0 ? r.out : undefined;
    });
    assert.equal(body.trim(), "ok");
    for (let i = 0; i < 6; i++) {
      const r = exec(client, ["timeout", "3", "wget", "-qO-", "http://api/"]);
      assert.equal(r.code, 0, r.out);
      assert.equal(r.out.trim(), "ok");
    }
  });

  test("after a daemon restart (containers adopted) DNS and the VIP still answer", async () => {
    await daemon.kill("SIGTERM");
    await daemon.start();
    const client = containersOf("client")[0]!;
    const body = await waitFor(
      "wget api after the restart",
      async () => {
        const r = exec(client, ["timeout", "3", "wget", "-qO-", "http://api/"]);
        return r.code === 0 ? r.out : undefined;
      },
      60_000,
    );
    assert.equal(body.trim(), "ok");
    assert.equal(containersOf("api").length, 2, "the tasks' containers were adopted, not replaced");
  });

  test("scaling api to 1 leaves one backend; removing both services removes the bridge", async () => {
    await ok(["service", "scale", "-d", "api=1"]);
    await waitFor("one api container", async () => containersOf("api").length === 1, 60_000);
    const client = containersOf("client")[0]!;
    for (let i = 0; i < 4; i++) {
      const r = exec(client, ["timeout", "3", "wget", "-qO-", "http://api/"]);
      assert.equal(r.code, 0, r.out);
    }
    await ok(["service", "rm", "api", "client"]);
    await waitFor(
      "the local bridge removed",
      async () =>
        hostDocker(["network", "ls", "-q", "--filter", `label=io.shoal.node.id=${nodeId}`]).trim() === "",
      60_000,
    );
  });
});
