/**
 * Overlay networks across three nodes (a manager and two workers, each its own dockerd in its own
 * netns) with the real docker CLI and real packets: networks are isolated from each other, DNS
 * answers per network (and relays other names to the node's resolver), a VIP spreads over tasks on
 * every node, host-mode ports answer only where a task runs, a full subnet leaves tasks waiting
 * with an error and no address handed twice, tasks reach the outside through their node (not from
 * an internal network), and a lost node's tasks leave the VIP sets.
 *
 * The world outside the overlays is the harness bridge's address: the test process serves each
 * node's upstream DNS there (bound over /etc/resolv.conf in the node's mount namespace) and an
 * HTTP listener for egress.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { httpGet } from "../helpers/mesh-client.ts";
import { waitFor } from "../helpers/shoal.ts";
import { EchoListener, UpstreamDns } from "./fixtures/outside.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

/** A page naming the task's node and container, served on port 80. */
const HTTPD = 'mkdir -p /www && echo "$NODE $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';
const WEB = ["-e", "NODE={{.Node.Hostname}}", "busybox:local", "sh", "-c", HTTPD];
/** A name only the nodes' upstream resolver knows (TEST-NET-2: never routed here). */
const OUTSIDE_NAME = "outside.shoal.test";
const OUTSIDE_ADDR = "198.51.100.7";

interface TaskView {
  id: string;
  nodeId: string;
  state: string;
  err: string;
  /** IPv4 address by network name. */
  ips: Record<string, string>;
}

/** Addresses in busybox nslookup's answer section that fall in `prefix` (e.g. "10.221.2."). */
const answers = (out: string, prefix: string) =>
  [...out.matchAll(/^Address:?\s+(\d+\.\d+\.\d+\.\d+)$/gm)]
    .map((m) => m[1] ?? "")
    .filter((a) => a.startsWith(prefix))
    .sort();

describe("overlay networks across three nodes: isolation, DNS, VIP, host ports, IPAM, egress, node loss", () => {
  let cluster: ClusterHarness;
  let upstream: UpstreamDns;
  let echo: EchoListener;
  const hostOf = new Map<string, string>();

  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 3, name: "ovi", registry: false });
    upstream = await UpstreamDns.start(cluster.gateway, { [OUTSIDE_NAME]: OUTSIDE_ADDR });
    echo = await EchoListener.start(cluster.gateway);
    // each node's resolver is the harness bridge (the host's is unreachable from the nodes)
    const resolv = join(cluster.dir, "resolv.conf");
    writeFileSync(resolv, `nameserver ${cluster.gateway}\n`);
    await Promise.all(
      cluster.nodes.map(async (n) => {
        const r = await n.exec(["mount", "--bind", resolv, "/etc/resolv.conf"]);
        assert.equal(r.code, 0, r.stderr);
        await n.startShoal();
      }),
    );
    const { nodeIds } = await cluster.formSwarm({ managers: 1 });
    for (const [i, id] of nodeIds.entries()) hostOf.set(id, cluster.node(i + 1).hostname);
  });
  after(async () => {
    upstream?.close();
    await echo?.close();
  });
  disposeAfterTests(() => cluster);

  const ok = async (args: string[]) => {
    const r = await cluster.node(1).docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const onNode = (i: number) => ["--constraint", `node.hostname==${cluster.node(i).hostname}`];
  /** The service's tasks meant to run, as the manager sees them. */
  const tasksOf = async (service: string): Promise<TaskView[]> => {
    const ids = (await ok(["service", "ps", "-q", "--no-trunc", "-f", "desired-state=running", service]))
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    const raw = JSON.parse(await ok(["inspect", "--type", "task", ...ids])) as Array<{
      ID: string;
      NodeID?: string;
      Status: { State: string; Err?: string };
      NetworksAttachments?: Array<{ Network: { Spec: { Name: string } }; Addresses?: string[] }>;
    }>;
    return raw.map((t) => ({
      id: t.ID,
      nodeId: t.NodeID ?? "",
      state: t.Status.State,
      err: t.Status.Err ?? "",
      ips: Object.fromEntries(
        (t.NetworksAttachments ?? []).map((a) => [
          a.Network.Spec.Name,
          (a.Addresses?.[0] ?? "").split("/")[0] ?? "",
        ]),
      ),
    }));
  };
  const running = (service: string, count: number, timeoutMs = 120_000) =>
    waitFor(
      `${count} running task(s) of ${service}`,
      async () => {
        const ts = await tasksOf(service);
        if (ts.length === count && ts.every((t) => t.state === "running")) return ts;
        throw new Error(ts.map((t) => `${t.id.slice(0, 8)} ${t.state} ${t.err}`).join("; "));
      },
      timeoutMs,
    );
  const vipOf = async (service: string, network: string): Promise<string | undefined> => {
    const netId = (await ok(["network", "inspect", "-f", "{{.ID}}", network])).trim();
    const vips = JSON.parse(
      await ok(["service", "inspect", "-f", "{{json .Endpoint.VirtualIPs}}", service]),
    ) as Array<{ NetworkID: string; Addr: string }> | null;
    return vips?.find((v) => v.NetworkID === netId)?.Addr.split("/")[0];
  };
  /** The container of the service's task on node i. */
  const containerOn = (i: number, service: string) =>
    waitFor(`a ${service} container on node ${i}`, async () => {
      const r = await cluster
        .node(i)
        .dockerdCli(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]);
      return r.stdout.trim().split("\n").filter(Boolean)[0];
    });
  const sh = (i: number, container: string, script: string) =>
    cluster.node(i).dockerdCli(["exec", container, "sh", "-c", script]);
  const wget = (url: string) => `timeout 3 wget -qO- ${url}`;

  test("setup: frontend and backend overlays, api on every node, clients on node 1", async () => {
    await ok(["network", "create", "-d", "overlay", "--subnet", "10.221.1.0/24", "frontend"]);
    await ok(["network", "create", "-d", "overlay", "--subnet", "10.221.2.0/24", "backend"]);
    const svc = (name: string, ...args: string[]) => ok(["service", "create", "-d", "--name", name, ...args]);
    await svc("api", "--replicas", "3", "--replicas-max-per-node", "1", "--network", "backend", ...WEB);
    await svc("both", "--network", "frontend", "--network", "backend", ...onNode(1), ...WEB);
    await svc("fe", "--network", "frontend", ...onNode(1), ...WEB);
    const api = await running("api", 3);
    assert.equal(new Set(api.map((t) => t.nodeId)).size, 3, "one api task per node");
    await running("both", 1);
    await running("fe", 1);
  });

  test("isolation: a task only on frontend reaches neither api's tasks nor its VIP; a task on both reaches all", async () => {
    const api = await tasksOf("api");
    const targets = [(await vipOf("api", "backend")) ?? "", ...api.map((t) => t.ips.backend ?? "")];
    assert.equal(targets.filter(Boolean).length, 4, JSON.stringify(targets));
    const both = await containerOn(1, "both");
    const fe = await containerOn(1, "fe");
    for (const ip of targets) {
      await waitFor(
        `both reaching ${ip}`,
        async () => (await sh(1, both, wget(`http://${ip}/`))).code === 0,
        60_000,
      );
    }
    // fe's own network works (frontend's VIP of both), so what follows is isolation, not a dead plane
    await waitFor(
      "fe reaching both by name",
      async () => (await sh(1, fe, wget("http://both/"))).code === 0,
      60_000,
    );
    const tries = targets.flatMap((ip) => [ip, ip]);
    const probe = tries.map((ip) => `${wget(`http://${ip}/`)} >/dev/null 2>&1 && echo "REACHED ${ip}"`);
    const r = await sh(1, fe, `${probe.join("; ")}; true`);
    assert.equal(r.stdout.trim(), "", `fe reached backend addresses: ${r.stdout}`);
  });

  test("DNS is per network: frontend gets NXDOMAIN for api, tasks.api lists every node's task, other names are relayed", async () => {
    const fe = await containerOn(1, "fe");
    const both = await containerOn(1, "both");
    for (const name of ["api", "tasks.api"]) {
      const r = await sh(1, fe, `nslookup ${name}`);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(`${r.stdout}${r.stderr}`, /NXDOMAIN/, `${name} from fe`);
    }
    const apiIps = (await tasksOf("api")).map((t) => t.ips.backend ?? "").sort();
    const tasks = await waitFor("tasks.api with three addresses", async () => {
      const r = await sh(1, both, "nslookup tasks.api");
      const ips = answers(r.stdout, "10.221.2.");
      return ips.length === 3 ? ips : undefined;
    });
    assert.deepEqual(tasks, apiIps);
    const vip = await vipOf("api", "backend");
    const named = await sh(1, both, "nslookup api");
    assert.deepEqual(answers(named.stdout, "10.221.2."), [vip]);
    // names shoal does not own go to the node's resolver, from the node's address
    for (const c of [fe, both]) {
      const r = await sh(1, c, `nslookup ${OUTSIDE_NAME}`);
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
      assert.deepEqual(answers(r.stdout, OUTSIDE_ADDR), [OUTSIDE_ADDR]);
    }
    const asked = upstream.queries.filter((q) => q.name === OUTSIDE_NAME).map((q) => q.from);
    assert.ok(asked.includes(cluster.node(1).addr), `queries came from ${asked.join(", ")}`);
  });

  test("a dnsrr service resolves to its task addresses (no VIP) and is reachable by name", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "rr",
      "--endpoint-mode",
      "dnsrr",
      "--replicas",
      "2",
      "--replicas-max-per-node",
      "1",
      "--constraint",
      "node.role==worker",
      "--network",
      "backend",
      ...WEB,
    ]);
    const rr = await running("rr", 2);
    assert.equal(await vipOf("rr", "backend"), undefined, "a dnsrr service has no VIP");
    const both = await containerOn(1, "both");
    const ips = rr.map((t) => t.ips.backend ?? "").sort();
    const resolved = await waitFor("rr resolving to its two tasks", async () => {
      const r = await sh(1, both, "nslookup rr");
      const got = answers(r.stdout, "10.221.2.");
      return got.length === 2 ? got : undefined;
    });
    assert.deepEqual(resolved, ips);
    const pages = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await sh(1, both, wget("http://rr/"));
      assert.equal(r.code, 0, r.stderr);
      pages.add(r.stdout.trim());
    }
    assert.equal(pages.size, 2, `rr by name answered from [${[...pages].join(", ")}]`);
  });

  test("the VIP spreads over tasks on several nodes: 50 requests, at least two backends", async () => {
    const both = await containerOn(1, "both");
    const loop = `for i in $(seq 50); do ${wget("http://api/")} || echo FAILED; done`;
    const r = await sh(1, both, loop);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 50, r.stdout);
    assert.ok(!lines.includes("FAILED"), r.stdout);
    const nodes = new Set(lines.map((l) => l.split(" ")[0]));
    assert.ok(nodes.size >= 2, `backends on nodes [${[...nodes].join(", ")}]`);
  });

  test("host-mode publish answers only on the nodes running a task", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "hp",
      "--publish",
      "mode=host,target=80,published=8081",
      "--replicas",
      "2",
      "--replicas-max-per-node",
      "1",
      "--constraint",
      "node.role==worker",
      ...WEB,
    ]);
    const hp = await running("hp", 2);
    assert.deepEqual(hp.map((t) => hostOf.get(t.nodeId)).sort(), [
      cluster.node(2).hostname,
      cluster.node(3).hostname,
    ]);
    for (const i of [2, 3]) {
      const n = cluster.node(i);
      const r = await waitFor(`node ${i}:8081`, async () => {
        const g = await httpGet(n.addr, 8081);
        return g.ok ? g : undefined;
      });
      assert.equal(r.body.split(" ")[0], n.hostname, "served by the node's own task");
    }
    const none = await httpGet(cluster.node(1).addr, 8081);
    assert.deepEqual(none, { ok: false, error: "ECONNREFUSED" });
    await ok(["service", "rm", "hp", "rr"]);
  });

  test("egress: a task reaches the outside through its node; on an --internal network it cannot", async () => {
    const url = `http://${cluster.gateway}:${echo.port}/`;
    const both = await containerOn(1, "both");
    const out = await sh(1, both, wget(url));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), cluster.node(1).addr, "NATed to node 1's address");
    const api2 = await containerOn(2, "api");
    const out2 = await sh(2, api2, wget(url));
    assert.equal(out2.stdout.trim(), cluster.node(2).addr, out2.stderr);

    await ok(["network", "create", "-d", "overlay", "--internal", "--subnet", "10.221.3.0/24", "priv"]);
    const iso = ["--network", "priv", "--replicas", "2", "--replicas-max-per-node", "1"];
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "iso",
      ...iso,
      "--constraint",
      "node.role==worker",
      ...WEB,
    ]);
    await running("iso", 2);
    const c = await containerOn(2, "iso");
    // the internal network itself works: iso's VIP, by name, reaches the tasks on nodes 2 and 3
    const seen = new Set<string>();
    await waitFor(
      "iso answering from both nodes by name",
      async () => {
        const r = await sh(2, c, wget("http://iso/"));
        if (r.code === 0) seen.add(r.stdout.split(" ")[0] ?? "");
        return seen.size === 2 ? true : undefined;
      },
      60_000,
    );
    const before = echo.callers.length;
    const r = await sh(2, c, `${wget(url)} || ${wget(url)}`);
    assert.notEqual(r.code, 0, `an internal task reached ${url}: ${r.stdout}`);
    assert.equal(echo.callers.length, before);
    await ok(["service", "rm", "iso"]);
  });

  test("a full subnet: tasks wait in new with an error, no address is handed twice, freeing addresses starts them", async () => {
    // a /29 has five addresses for tasks, VIPs and node attachments (.1 is the gateway)
    await ok(["network", "create", "-d", "overlay", "--subnet", "10.221.9.0/29", "tiny"]);
    const on2 = [...onNode(2), "--network", "tiny", "--stop-signal", "KILL", "busybox:local", "sleep", "1d"];
    // hog: its VIP, two tasks and node 2's attachment: four of the five
    await ok(["service", "create", "-d", "--name", "hog", "--replicas", "2", ...on2]);
    const hog = await running("hog", 2);
    // full: its VIP takes the last address, so its tasks find none
    await ok(["service", "create", "-d", "--name", "full", "--replicas", "2", ...on2]);
    const waiting = await waitFor(
      "full's tasks waiting with an error",
      async () => {
        const out = await ok([
          "service",
          "ps",
          "--no-trunc",
          "--format",
          "{{.CurrentState}}|{{.Error}}",
          "full",
        ]);
        const rows = out.trim().split("\n");
        return rows.length === 2 && rows.every((r) => /^New .*\|.*available IP/.test(r)) ? rows : undefined;
      },
      60_000,
    );
    assert.match(waiting[0] ?? "", /could not find an available IP on network tiny/);
    for (const t of await tasksOf("full")) assert.deepEqual(t.ips, {}, "a waiting task holds no address");
    const used = [
      ...hog.map((t) => t.ips.tiny ?? ""),
      (await vipOf("hog", "tiny")) ?? "",
      (await vipOf("full", "tiny")) ?? "",
    ];
    assert.equal(new Set(used).size, 4, `addresses ${used.join(", ")}`);
    for (const a of used) assert.match(a, /^10\.221\.9\.[2-6]$/);

    await ok(["service", "scale", "-d", "hog=0"]);
    const full = await running("full", 2, 90_000);
    const now = [...full.map((t) => t.ips.tiny ?? ""), ...used.slice(2)];
    assert.equal(new Set(now).size, 4, `addresses ${now.join(", ")}`);
    for (const a of now) assert.match(a, /^10\.221\.9\.[2-6]$/);
    // and the containers really have them
    const inspect = await cluster
      .node(2)
      .dockerdCli([
        "ps",
        "-q",
        "--filter",
        "label=com.docker.swarm.service.name=full",
        "--format",
        "{{.ID}}",
      ]);
    const ids = inspect.stdout.trim().split("\n").filter(Boolean);
    const got = await cluster
      .node(2)
      .dockerdCli(["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", ...ids]);
    assert.deepEqual(got.stdout.trim().split("\n").sort(), full.map((t) => t.ips.tiny).sort());
    await ok(["service", "rm", "hog", "full"]);
  });

  test("a lost node's task leaves the VIP set: requests from node 1 succeed once the node is down", async () => {
    const both = await containerOn(1, "both");
    const lost = (await tasksOf("api")).find((t) => hostOf.get(t.nodeId) === cluster.node(3).hostname);
    assert.ok(lost, "an api task on node 3");
    const node3 = [...hostOf].find(([, h]) => h === cluster.node(3).hostname)?.[0] ?? "";
    const crashedAt = Date.now();
    await cluster.node(3).crash();
    const log: Array<{ at: number; ok: boolean; page: string }> = [];
    let downAt = 0;
    // requests and the node's state in turn until 30 s after the node is marked down (3 min at most)
    while (Date.now() - crashedAt < 180_000 && (downAt === 0 || Date.now() - downAt < 30_000)) {
      const r = await sh(1, both, wget("http://api/"));
      log.push({ at: Date.now(), ok: r.code === 0, page: r.stdout.trim() });
      if (downAt === 0) {
        const s = await ok(["node", "inspect", "-f", "{{.Status.State}}", node3]);
        if (s.trim() === "down") downAt = Date.now();
      }
    }
    assert.ok(downAt > 0, "node 3 marked down within 3 minutes");
    // the down node's tasks leave the view; allow the dispatcher and the agent a few seconds for that
    const settled = downAt + 10_000;
    const late = log.filter((e) => e.at > settled);
    const failed = late.filter((e) => !e.ok);
    assert.ok(late.length >= 5, `only ${late.length} requests after the window`);
    assert.deepEqual(failed, [], `failures after the node was down: ${JSON.stringify(failed)}`);
    assert.ok(
      late.every((e) => !e.page.startsWith(cluster.node(3).hostname)),
      "no answer from node 3's task",
    );
    const before = log.filter((e) => e.at <= settled);
    const lastFailure = before.filter((e) => !e.ok).at(-1)?.at;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `node 3 down ${s(downAt - crashedAt)} after the crash; ` +
        `${before.filter((e) => !e.ok).length}/${before.length} requests failed before ${s(settled - crashedAt)}` +
        `${lastFailure ? ` (the last at ${s(lastFailure - crashedAt)})` : ""}, 0/${late.length} after`,
    );
  });
});
