/**
 * Issue: overlay networking (control plane). The real docker CLI against a real shoal daemon and
 * dockerd: swarm-scope network create/ls/inspect/rm next to dockerd's local networks, the ingress
 * network, services with VIPs and published ports (explicit and assigned from 30000), Swarm's
 * refusals, and encrypted overlays refused where the kernel has no ESP. No packets: the data plane
 * is a separate piece of work.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const REPO = new URL("../..", import.meta.url).pathname;

before(() => {
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

interface NetworkInspect {
  Name: string;
  Id: string;
  Scope: string;
  Driver: string;
  IPAM: { Driver: string; Config: Array<{ Subnet?: string; Gateway?: string }> };
  Attachable: boolean;
  Ingress: boolean;
  Internal: boolean;
  Options: Record<string, string> | null;
  Labels: Record<string, string>;
  ConfigFrom: { Network: string };
  Containers: unknown;
}

interface Endpoint {
  Ports?: Array<{ TargetPort: number; PublishedPort: number; PublishMode: string; Protocol: string }>;
  VirtualIPs?: Array<{ NetworkID: string; Addr: string }>;
}

describe("overlay networks with the docker CLI", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  const ok = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };
  const fails = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.notEqual(res.code, 0, `docker ${args.join(" ")} should fail: ${res.stdout}`);
    return res.stderr;
  };
  const inspectNetwork = async (name: string) =>
    (JSON.parse(await ok(["network", "inspect", name])) as NetworkInspect[])[0];
  const endpointOf = async (service: string) =>
    JSON.parse(await ok(["service", "inspect", service, "--format", "{{json .Endpoint}}"])) as Endpoint;

  before(async () => {
    nodeId = await daemon.startSwarm();
  });
  after(async () => {
    await daemon.disposeSwarm(nodeId);
  });

  test("swarm init creates the ingress network: 10.0.0.0/24, VNI 4096", async () => {
    const ingress = await waitFor("ingress allocated", async () => {
      const n = await inspectNetwork("ingress");
      return n?.IPAM.Config.length ? n : undefined;
    });
    assert.equal(ingress.Ingress, true);
    assert.equal(ingress.Scope, "swarm");
    assert.equal(ingress.Driver, "overlay");
    assert.deepEqual(ingress.IPAM.Config, [{ Subnet: "10.0.0.0/24", Gateway: "10.0.0.1" }]);
    assert.equal(ingress.Options?.["com.docker.network.driver.overlay.vxlanid_list"], "4096");
  });

  test("network create -d overlay; ls shows it next to ingress and dockerd's local networks", async () => {
    const id = (
      await ok([
        "network",
        "create",
        "-d",
        "overlay",
        "--attachable",
        "--subnet",
        "10.20.0.0/24",
        "--label",
        "k=v",
        "backend",
      ])
    ).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const ls = await ok(["network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"]);
    assert.match(ls, /^backend overlay swarm$/m);
    assert.match(ls, /^ingress overlay swarm$/m);
    assert.match(ls, /^bridge bridge local$/m);
    assert.match(ls, /^host host local$/m);
    assert.equal((ls.match(/^ingress /gm) ?? []).length, 1, "dockerd's own swarm never shows");
    const filtered = await ok(["network", "ls", "--filter", "label=k=v", "--format", "{{.Name}}"]);
    assert.equal(filtered.trim(), "backend");
    const swarmOnly = await ok(["network", "ls", "--filter", "scope=swarm", "--format", "{{.Name}}"]);
    assert.deepEqual(swarmOnly.trim().split("\n").sort(), ["backend", "ingress"]);
  });

  test("network inspect: Swarm's shape with the allocated subnet, gateway and VNI", async () => {
    const n = await waitFor("backend allocated", async () => {
      const x = await inspectNetwork("backend");
      return x?.Options?.["com.docker.network.driver.overlay.vxlanid_list"] ? x : undefined;
    });
    assert.equal(n.Name, "backend");
    assert.equal(n.Scope, "swarm");
    assert.equal(n.Driver, "overlay");
    assert.equal(n.Attachable, true);
    assert.equal(n.Ingress, false);
    assert.equal(n.Internal, false);
    assert.deepEqual(n.Labels, { k: "v" });
    assert.equal(n.IPAM.Driver, "default");
    assert.deepEqual(n.IPAM.Config, [{ Subnet: "10.20.0.0/24", Gateway: "10.20.0.1" }]);
    assert.equal(n.Options?.["com.docker.network.driver.overlay.vxlanid_list"], "4097");
    assert.deepEqual(n.ConfigFrom, { Network: "" });
    assert.equal(n.Containers, null);
    const bySwarmScope = JSON.parse(
      await ok(["network", "inspect", "--format", "{{json .}}", n.Id]),
    ) as NetworkInspect;
    assert.equal(bySwarmScope.Name, "backend");
    const local = JSON.parse(await ok(["network", "inspect", "bridge"])) as NetworkInspect[];
    assert.equal(local[0]?.Scope, "local", "local networks come from dockerd");
  });

  test("create refusals: duplicate name, overlapping subnet, bad gateway, predefined name", async () => {
    assert.match(
      await fails(["network", "create", "-d", "overlay", "backend"]),
      /network with name backend already exists/,
    );
    assert.match(
      await fails(["network", "create", "-d", "overlay", "--subnet", "10.20.0.128/25", "clash"]),
      /Pool overlaps with other one on this address space/,
    );
    assert.match(
      await fails(["network", "create", "-d", "overlay", "--subnet", "10.30.0.1/24", "badsub"]),
      /invalid subnet 10.30.0.1\/24: it should be 10.30.0.0\/24/,
    );
    assert.match(
      await fails(["network", "create", "-d", "overlay", "bridge"]),
      /bridge is a pre-defined network/,
    );
  });

  test("--opt encrypted is refused with a clear error on this machine (no kernel ESP)", async () => {
    const err = await fails(["network", "create", "-d", "overlay", "--opt", "encrypted", "secure"]);
    assert.match(err, /encrypted overlay networks need IPsec ESP in the kernel/);
    const ls = await ok(["network", "ls", "--format", "{{.Name}}"]);
    assert.doesNotMatch(ls, /^secure$/m);
  });

  test("a service on backend gets VIPs on ingress and backend, and its published ports", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "web",
      "--network",
      "backend",
      "-p",
      "8080:80",
      "-p",
      "81",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    const endpoint = await waitFor("web's endpoint allocated", async () => {
      const e = await endpointOf("web");
      return e.VirtualIPs?.length === 2 ? e : undefined;
    });
    const ingressId = (await inspectNetwork("ingress"))?.Id;
    const backendId = (await inspectNetwork("backend"))?.Id;
    assert.deepEqual(
      endpoint.Ports?.map((p) => [p.TargetPort, p.PublishedPort, p.PublishMode]),
      [
        [80, 8080, "ingress"],
        [81, 30000, "ingress"],
      ],
    );
    const vips = new Map(endpoint.VirtualIPs?.map((v) => [v.NetworkID, v.Addr]));
    assert.match(vips.get(ingressId ?? "") ?? "", /^10\.0\.0\.\d+\/24$/);
    assert.match(vips.get(backendId ?? "") ?? "", /^10\.20\.0\.\d+\/24$/);
    const ls = await ok(["service", "ls", "--format", "{{.Name}} {{.Ports}}"]);
    assert.match(ls, /^web \*:8080->80\/tcp, \*:30000->81\/tcp$/m);
    const task = (await ok(["service", "ps", "-q", "web"])).trim().split("\n")[0] ?? "";
    const attachments = JSON.parse(
      await ok(["inspect", task, "--format", "{{json .NetworksAttachments}}"]),
    ) as Array<{
      Network: { ID: string };
      Addresses: string[];
    }>;
    assert.deepEqual(
      attachments.map((a) => a.Network.ID),
      [ingressId, backendId],
    );
    assert.match(attachments[1]?.Addresses[0] ?? "", /^10\.20\.0\.\d+\/24$/);
    const spec = JSON.parse(
      await ok(["service", "inspect", "web", "--format", "{{json .Spec.TaskTemplate.Networks}}"]),
    );
    assert.deepEqual(spec, [{ Target: backendId }], "network names become IDs");
  });

  test("a published port in use is refused with Swarm's text; naming ingress is refused", async () => {
    const err = await fails([
      "service",
      "create",
      "-d",
      "--name",
      "dup",
      "-p",
      "8080:80",
      "busybox:local",
      "sleep",
      "1",
    ]);
    assert.match(err, /port '8080' is already in use by service 'web' \(\w+\) as an ingress port/);
    const busy30000 = await fails([
      "service",
      "create",
      "-d",
      "--name",
      "dup",
      "-p",
      "30000:80",
      "busybox:local",
      "sleep",
      "1",
    ]);
    assert.match(busy30000, /port '30000' is already in use by service 'web'/);
    const ingress = await fails([
      "service",
      "create",
      "-d",
      "--name",
      "bad",
      "--network",
      "ingress",
      "busybox:local",
      "sleep",
      "1",
    ]);
    assert.match(ingress, /Service cannot be explicitly attached to the ingress network "ingress"/);
  });

  test("service update --publish-add/--network-add re-allocates", async () => {
    await ok(["network", "create", "-d", "overlay", "front"]);
    await ok(["service", "update", "-d", "--publish-add", "9090:90", "--network-add", "front", "web"]);
    const frontId = (await inspectNetwork("front"))?.Id ?? "";
    const endpoint = await waitFor("web re-allocated", async () => {
      const e = await endpointOf("web");
      return e.VirtualIPs?.some((v) => v.NetworkID === frontId) ? e : undefined;
    });
    assert.deepEqual(endpoint.Ports?.map((p) => p.PublishedPort).sort(), [30000, 8080, 9090].sort());
    assert.match(
      endpoint.VirtualIPs?.find((v) => v.NetworkID === frontId)?.Addr ?? "",
      /^10\.0\.\d+\.\d+\/24$/,
    );
  });

  test("a restarted daemon keeps every allocation and hands out nothing twice", async () => {
    const before = { web: await endpointOf("web"), backend: await inspectNetwork("backend") };
    await daemon.kill("SIGKILL");
    await daemon.start();
    const web = await waitFor(
      "the manager back",
      async () => {
        const res = await daemon.docker(["service", "inspect", "web", "--format", "{{json .Endpoint}}"]);
        return res.code === 0 ? (JSON.parse(res.stdout) as Endpoint) : undefined;
      },
      60_000,
    );
    assert.deepEqual(web, before.web);
    assert.deepEqual(await inspectNetwork("backend"), before.backend);
    // New allocations after the restart avoid what the store says is taken.
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "api",
      "--network",
      "backend",
      "-p",
      "82",
      "busybox:local",
      "sleep",
      "100000",
    ]);
    const api = await waitFor("api allocated", async () => {
      const e = await endpointOf("api");
      return e.VirtualIPs?.length === 2 ? e : undefined;
    });
    assert.equal(api.Ports?.[0]?.PublishedPort, 30001);
    const taken = new Set(before.web.VirtualIPs?.map((v) => v.Addr));
    for (const v of api.VirtualIPs ?? []) assert.ok(!taken.has(v.Addr), `${v.Addr} handed out twice`);
    await ok(["service", "rm", "api"]);
  });

  test("network rm while a service uses it is refused; after service rm it succeeds", async () => {
    const backendId = (await inspectNetwork("backend"))?.Id ?? "";
    const err = await fails(["network", "rm", "backend"]);
    assert.match(
      err,
      new RegExp(
        `rpc error: code = FailedPrecondition desc = network ${backendId} is in use by service \\w+`,
      ),
    );
    await ok(["service", "rm", "web"]);
    await ok(["network", "rm", "backend", "front"]);
    const ls = await ok(["network", "ls", "--format", "{{.Name}}"]);
    assert.doesNotMatch(ls, /^(backend|front)$/m);
    assert.match(
      await fails(["network", "inspect", "backend"]),
      /No such network: backend|network backend not found/i,
    );
  });
});
