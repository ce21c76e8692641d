/**
 * The multi-node harness itself (DESIGN §7): nodes come up fast with their own dockerd, hostname and
 * address; they reach each other and the registry; partitions, dockerd kills, node crashes and
 * freezes work; a shoal daemon runs inside a node's namespaces; a real Docker Swarm forms across the
 * nodes; and dispose leaves nothing behind, even after a failed start or a killed test process.
 * Needs root; fails (never skips) when something is missing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { cleanup } from "./cleanup.ts";
import { ClusterHarness, ClusterStartError, leftovers, waitFor } from "./harness.ts";
import { instanceOfName, layout, nodeLayout } from "./layout.ts";
import { partitionRules, prefixesOverlap } from "./network.ts";
import { isForeignMount, pingSocket, REPO } from "./node.ts";
import { allPids, pidAlive, procCmdline, run } from "./sys.ts";

/** The test context says the test failed (TestContext.passed, not in @types/node 20). */
const failed = (t: object): boolean => "passed" in t && t.passed === false;

const ok = (r: { code: number; stdout: string; stderr: string }, what: string): string => {
  assert.equal(r.code, 0, `${what}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("a 3-node cluster", () => {
  let cluster: ClusterHarness;
  let startMs = 0;

  before(async () => {
    const t0 = performance.now();
    cluster = await ClusterHarness.create({ nodes: 3, name: "harness" });
    startMs = performance.now() - t0;
  });
  after(async () => {
    await cluster?.dispose();
  });
  afterEach((t) => {
    if (failed(t) && cluster?.leftovers().length) process.stderr.write(`${cluster.logTails(40)}\n`);
  });

  test("comes up in under 20 s with distinct addresses, hostnames and engine IDs", async () => {
    assert.ok(
      startMs < 20_000,
      `startup took ${Math.round(startMs)} ms (${JSON.stringify(cluster.timings)})`,
    );
    assert.match(cluster.subnet, /^172\.16\.\d+\.0\/24$/);
    const ids = new Set<string>();
    for (const n of cluster.nodes) {
      assert.equal(n.addr, `${cluster.subnet.replace(/0\/24$/, "")}${n.index}`);
      assert.equal(n.hostname, `harness-node${n.index}`);
      const info = ok(
        await n.dockerdCli(["info", "--format", "{{.Name}} {{.ID}}"]),
        `info on node ${n.index}`,
      );
      const [name, id] = info.trim().split(" ");
      assert.equal(name, n.hostname);
      ids.add(id ?? "");
      assert.equal(ok(await n.exec(["hostname"]), "hostname").trim(), n.hostname);
      const sysNet = ok(await n.exec(["ls", "/sys/class/net"]), "ls /sys/class/net").split("\n");
      assert.ok(
        sysNet.includes("eth0") && !sysNet.includes(cluster.bridge),
        `node sysfs: ${sysNet.join(" ")}`,
      );
      assert.match(
        ok(await n.exec(["ip", "-4", "-o", "addr", "show", "eth0"]), "ip addr"),
        new RegExp(`inet ${n.addr}/24`),
      );
    }
    assert.equal(ids.size, 3, "every dockerd has its own engine ID");
    const mem = cluster.memory();
    assert.ok(mem.totalKiB < 600 * 1024, `harness uses ${Math.round(mem.totalKiB / 1024)} MiB`);
  });

  test("every node's dockerd runs busybox:local (preloaded)", async () => {
    await Promise.all(
      cluster.nodes.map(async (n) => {
        const r = await n.dockerdCli(["run", "--rm", "busybox:local", "echo", "hi"]);
        assert.equal(ok(r, `run on node ${n.index}`), "hi\n");
      }),
    );
  });

  test("nodes reach each other from their netns and from host-network containers", async () => {
    const [n1, n2, n3] = [cluster.node(1), cluster.node(2), cluster.node(3)];
    assert.ok(await n1.ping(n2.addr), "node 1 pings node 2");
    assert.ok(await n3.ping(n1.addr), "node 3 pings node 1");
    assert.ok(await n2.ping(cluster.gateway), "node 2 pings the bridge");
    // a --network host container lives in the node's netns (its own containerd runs there)
    const addrs = ok(
      await n2.dockerdCli(["run", "--rm", "--network", "host", "busybox:local", "ip", "-4", "addr"]),
      "ip",
    );
    assert.match(addrs, new RegExp(`inet ${n2.addr}/24`));
    ok(
      await n2.dockerdCli([
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "host",
        "busybox:local",
        "httpd",
        "-f",
        "-p",
        "18080",
        "-h",
        "/www",
      ]),
      "httpd on node 2",
    );
    const got = await waitFor(
      "node 1 fetching from node 2's httpd",
      async () => {
        const r = await n1.dockerdCli([
          "run",
          "--rm",
          "--network",
          "host",
          "busybox:local",
          "sh",
          "-c",
          `timeout 3 wget -q -O - http://${n2.addr}:18080/`,
        ]);
        return r.code === 0 ? r.stdout : undefined;
      },
      15_000,
    );
    assert.equal(got, "ok\n");
    ok(await n2.dockerdCli(["rm", "-f", "web"]), "rm web");
  });

  test("a static VXLAN between two nodes carries traffic (what shoal's overlay builds on)", async () => {
    const [n1, n2] = [cluster.node(1), cluster.node(2)];
    const setup = async (n: typeof n1, ip: string): Promise<string> => {
      ok(
        await n.sh(
          `ip link add vxt type vxlan id 4242 dstport 4789 local ${n.addr} nolearning proxy && ` +
            `ip link set vxt mtu 1450 up && ip addr add ${ip}/24 dev vxt`,
        ),
        `vxlan on node ${n.index}`,
      );
      return ok(await n.exec(["cat", "/sys/class/net/vxt/address"]), "mac").trim();
    };
    const mac1 = await setup(n1, "10.99.0.1");
    const mac2 = await setup(n2, "10.99.0.2");
    for (const [n, peer, mac, ip] of [
      [n1, n2, mac2, "10.99.0.2"],
      [n2, n1, mac1, "10.99.0.1"],
    ] as const) {
      ok(
        await n.exec(["bridge", "fdb", "append", mac, "dev", "vxt", "dst", peer.addr, "self", "permanent"]),
        "fdb",
      );
      ok(await n.exec(["ip", "neigh", "add", ip, "lladdr", mac, "dev", "vxt", "nud", "permanent"]), "neigh");
    }
    try {
      assert.ok(await n1.ping("10.99.0.2"), "node 1 reaches node 2 over VXLAN");
      assert.ok(await n2.ping("10.99.0.1"), "node 2 reaches node 1 over VXLAN");
    } finally {
      await Promise.all([n1, n2].map((n) => n.exec(["ip", "link", "del", "vxt"])));
    }
  });

  test("the registry serves the image to every node, by tag and by digest", async () => {
    const reg = cluster.registry;
    assert.equal(reg.addr, `${cluster.gateway}:5000`);
    assert.match(reg.digest, /^sha256:[0-9a-f]{64}$/);
    await Promise.all(
      [cluster.node(2), cluster.node(3)].map(async (n) => {
        ok(await n.dockerdCli(["pull", "-q", reg.ref]), `pull by digest on node ${n.index}`);
        ok(await n.dockerdCli(["pull", "-q", reg.image]), `pull by tag on node ${n.index}`);
        const digests = ok(
          await n.dockerdCli(["image", "inspect", "--format", "{{json .RepoDigests}}", reg.image]),
          "inspect",
        );
        assert.ok(digests.includes(reg.digest), digests);
      }),
    );
  });

  test("publishImage builds a distinct image and every node pulls it", async () => {
    const v2 = await cluster.publishImage("app:v2", ["LABEL version=2", 'CMD ["echo", "v2"]']);
    assert.notEqual(v2.digest, cluster.registry.digest);
    assert.equal(v2.image, `${cluster.registry.addr}/app:v2`);
    const out = ok(await cluster.node(3).dockerdCli(["run", "--rm", v2.ref]), "run v2 by digest");
    assert.equal(out, "v2\n");
  });

  test("partition(2) cuts node 2 off, heal(2) restores it; partition from some nodes only", async () => {
    const [n1, n2, n3] = [cluster.node(1), cluster.node(2), cluster.node(3)];
    await cluster.partition(2);
    assert.equal(await n1.ping(n2.addr), false, "node 1 must not reach node 2");
    assert.equal(await n2.ping(n3.addr), false, "node 2 must not reach node 3");
    assert.equal(await n2.ping(cluster.gateway), false, "node 2 must not reach the registry");
    assert.ok(await n1.ping(n3.addr), "node 1 still reaches node 3");
    // the node itself keeps working: loopback, its dockerd, its containers
    assert.ok(await n2.ping("127.0.0.1"));
    assert.equal(
      ok(await n2.dockerdCli(["run", "--rm", "busybox:local", "echo", "alone"]), "run"),
      "alone\n",
    );
    await cluster.heal(2);
    assert.ok(await n1.ping(n2.addr), "node 1 reaches node 2 after heal");
    assert.ok(await n2.ping(n3.addr), "node 2 reaches node 3 after heal");

    await cluster.partition(2, { from: [1] });
    assert.equal(await n1.ping(n2.addr), false, "1 and 2 are cut");
    assert.equal(await n2.ping(n1.addr), false, "2 and 1 are cut");
    assert.ok(await n3.ping(n2.addr), "3 still reaches 2");
    assert.ok(await n2.ping(n3.addr), "2 still reaches 3");
    await cluster.heal();
    assert.ok(await n1.ping(n2.addr));
    assert.equal(await n2.partitioned(), false);

    // one way: a UDP datagram from node 1 reaches node 2 only if node 2 may receive
    const udp = async (): Promise<string> => {
      const listen = n2.exec([
        process.execPath,
        "-e",
        "const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { process.stdout.write(m); process.exit(0); });" +
          "s.bind(9999, () => process.stdout.write('')); setTimeout(() => process.exit(0), 2000);",
      ]);
      await new Promise((r) => setTimeout(r, 500));
      await n1.exec([
        process.execPath,
        "-e",
        `require('dgram').createSocket('udp4').send('hello', 9999, '${n2.addr}', () => process.exit(0));`,
      ]);
      return (await listen).stdout;
    };
    assert.equal(await udp(), "hello", "UDP from node 1 to node 2");
    await cluster.partition(2, { direction: "out" });
    assert.equal(await udp(), "hello", "node 2 still receives");
    assert.equal(await n2.ping(n1.addr), false, "but cannot send");
    await cluster.partition(2, { direction: "in" });
    assert.equal(await udp(), "", "node 2 receives nothing");
    await cluster.heal(2);
  });

  test("killDockerd / startDockerd; crash / boot; freeze / thaw", async () => {
    const n3 = cluster.node(3);
    // without --live-restore a restarted dockerd stops what was running: SIGKILL spares the 10 s
    // a SIGTERM-ignoring busybox PID 1 would cost
    ok(
      await n3.dockerdCli([
        "run",
        "-d",
        "--name",
        "keep",
        "--stop-signal",
        "KILL",
        "busybox:local",
        "sleep",
        "600",
      ]),
      "run keep",
    );
    const dockerdPid = n3.dockerdPid;
    await n3.killDockerd();
    assert.equal(dockerdPid !== undefined && pidAlive(dockerdPid), false);
    assert.equal(await pingSocket(n3.dockerd), false);
    assert.ok(n3.containerdPid, "containerd survives a dockerd kill");
    await n3.startDockerd();
    assert.notEqual(n3.dockerdPid, dockerdPid);
    ok(await n3.dockerdCli(["image", "inspect", "busybox:local"]), "image kept");
    ok(await n3.dockerdCli(["inspect", "keep"]), "container kept");

    await n3.crash();
    assert.deepEqual(n3.pids(), []);
    assert.equal(await pingSocket(n3.dockerd), false);
    await n3.boot();
    assert.equal(ok(await n3.dockerdCli(["run", "--rm", "busybox:local", "echo", "back"]), "run"), "back\n");

    n3.freeze();
    assert.ok(n3.frozen);
    assert.equal(await pingSocket(n3.dockerd, 500), false, "a frozen dockerd does not answer");
    n3.thaw();
    assert.ok(await pingSocket(n3.dockerd), "it answers again after thaw");
  });

  test("a real Docker Swarm forms across the nodes' dockerds and runs a service from the registry", async () => {
    const swarm = await cluster.formSwarm({ via: "dockerd", managers: 1 });
    assert.equal(new Set(swarm.nodeIds).size, 3);
    const n1 = cluster.node(1);
    const hosts = ok(await n1.dockerdCli(["node", "ls", "--format", "{{.Hostname}}"]), "node ls");
    assert.deepEqual(hosts.trim().split("\n").sort(), ["harness-node1", "harness-node2", "harness-node3"]);
    ok(
      await n1.dockerdCli([
        "service",
        "create",
        "-d",
        "--name",
        "spread",
        "--replicas",
        "3",
        "--placement-pref",
        "spread=node.id",
        cluster.registry.image,
        "sleep",
        "600",
      ]),
      "service create",
    );
    await waitFor(
      "3 running tasks on 3 nodes",
      async () => {
        const r = await n1.dockerdCli([
          "service",
          "ps",
          "spread",
          "--filter",
          "desired-state=running",
          "--format",
          "{{.Node}} {{.CurrentState}}",
        ]);
        const running = r.stdout.split("\n").filter((l) => / Running /.test(l));
        return new Set(running.map((l) => l.split(" ")[0])).size === 3 || undefined;
      },
      60_000,
      250,
    );
    await Promise.all(
      cluster.nodes.map(async (n) =>
        ok(await n.dockerdCli(["swarm", "leave", "--force"]), `leave on node ${n.index}`),
      ),
    );
  });

  test("a shoal daemon runs in node 1's namespaces and does swarm init there", async () => {
    const n1 = cluster.node(1);
    await n1.startShoal();
    const pid = n1.shoalPid;
    assert.ok(pid);
    const netns = readlinkSync(`/proc/${pid}/ns/net`);
    assert.equal(
      netns,
      `net:[${statSync(`/var/run/netns/${n1.netns}`).ino}]`,
      "shoal runs in the node's netns",
    );
    const version = ok(
      await n1.docker(["version", "--format", "{{.Server.APIVersion}} {{json .Server.Components}}"]),
      "version",
    );
    assert.match(version, /^1\.41 .*shoal/i);
    const name = ok(await n1.docker(["info", "--format", "{{.Name}}"]), "info");
    assert.equal(name.trim(), n1.hostname);
    const init = ok(await n1.docker(["swarm", "init", "--advertise-addr", n1.addr]), "swarm init");
    assert.match(
      init,
      new RegExp(`docker swarm join --token SWMTKN-1-\\S+ ${n1.addr.replaceAll(".", "\\.")}:2377`),
    );
    // shoal and whatever it started (etcd) live in node 1's netns; what they listen on is there
    const nsIno = `net:[${statSync(`/var/run/netns/${n1.netns}`).ino}]`;
    const spawned = n1.shoalPids();
    assert.ok(spawned.includes(pid));
    for (const p of spawned)
      assert.equal(readlinkSync(`/proc/${p}/ns/net`), nsIno, `pid ${p} ${procCmdline(p)[0]}`);
    assert.ok((await n1.listeners()).length > 0);

    await n1.killShoal("SIGKILL");
    assert.equal(pidAlive(pid), false);
    await n1.restartShoal();
    assert.notEqual(n1.shoalPid, pid);
    // after a kill -9 the node may say "pending" while it gets its etcd back
    await waitFor(
      "LocalNodeState active after the restart",
      async () => {
        const r = await n1.docker(["info", "--format", "{{.Swarm.LocalNodeState}}"]);
        if (r.stdout.trim() === "active") return true;
        throw new Error(`state ${r.stdout.trim()} ${r.stderr.trim()}`);
      },
      30_000,
    );
    // kill -9 of shoal and everything it started (its etcd), then start again
    assert.ok(n1.shoalPids().length >= 2, "shoal runs its etcd after swarm init");
    await n1.killShoal("SIGKILL", { children: true });
    assert.deepEqual(n1.shoalPids(), []);
    await n1.restartShoal();
    assert.ok(n1.shoalPid);
  });

  test("addNode brings a 4th node onto the same network with the image preloaded", async () => {
    const n4 = await cluster.addNode();
    assert.equal(n4.index, 4);
    assert.equal(cluster.node(4), n4);
    assert.equal(n4.hostname, "harness-node4");
    assert.ok(await cluster.node(1).ping(n4.addr));
    assert.equal(ok(await n4.dockerdCli(["run", "--rm", "busybox:local", "echo", "four"]), "run"), "four\n");
  });

  test("dispose removes every process, namespace, link, mount, cgroup, rule and file; twice is fine", async () => {
    // leave plenty behind: containers on every node, shoal (+ its etcd) on node 1
    await Promise.all(
      cluster.nodes.map(async (n) =>
        ok(await n.dockerdCli(["run", "-d", "busybox:local", "sleep", "600"]), "run"),
      ),
    );
    const pids = cluster.memory().processes.map((p) => p.pid);
    assert.ok(pids.length >= 10, `expected many processes, got ${pids.length}`);
    const idx = cluster.idx;
    const dir = cluster.dir;
    const t0 = performance.now();
    await cluster.dispose();
    const disposeMs = performance.now() - t0;
    assert.ok(disposeMs < 10_000, `dispose took ${Math.round(disposeMs)} ms`);
    assert.deepEqual(leftovers(idx), []);
    assert.deepEqual(pids.filter(pidAlive), [], "every process is gone");
    assert.deepEqual(
      allPids().filter((p) => procCmdline(p).some((a) => a.includes(`${dir}/`))),
      [],
    );
    const netns = existsSync("/var/run/netns") ? readFileSync("/proc/self/mountinfo", "utf8") : "";
    assert.equal(netns.includes(dir), false, "no mount under the state dir");
    assert.equal(netns.includes(`/var/run/netns/shc${idx}n`), false, "no netns mount");
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(`/sys/class/net/${cluster.bridge}`), false);
    for (const n of cluster.nodes) {
      assert.equal(existsSync(`/var/run/netns/${n.netns}`), false);
      assert.equal(existsSync(`/sys/class/net/shc${idx}v${n.index}`), false);
    }
    const rules = await run(["iptables", "-w", "-S"]);
    assert.equal(rules.stdout.includes(cluster.bridge), false);
    await cluster.dispose();
  });
});

describe("isolation and cleanup", () => {
  test("two harnesses at once get their own network; disposing one leaves the other running", async () => {
    const [a, b] = await Promise.all([
      ClusterHarness.create({ nodes: 1, name: "iso-a", registry: false, preload: false }),
      ClusterHarness.create({ nodes: 1, name: "iso-b", registry: false, preload: false }),
    ]);
    try {
      assert.notEqual(a.idx, b.idx);
      assert.notEqual(a.subnet, b.subnet);
      assert.equal(await a.node(1).ping(b.node(1).addr), false, "instances do not see each other");
      await a.dispose();
      assert.deepEqual(a.leftovers(), []);
      assert.ok(await pingSocket(b.node(1).dockerd), "b's dockerd still answers");
      assert.ok(await b.node(1).ping(b.gateway));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  test("a failed start removes everything it made and says why", async () => {
    const err = await ClusterHarness.create({
      nodes: 2,
      name: "broken",
      registry: false,
      preload: false,
      dockerdArgs: ["--no-such-flag"],
    }).then(
      () => assert.fail("create should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ClusterStartError, String(err));
    assert.match(err.message, /unknown flag: --no-such-flag/);
    assert.deepEqual(leftovers(err.idx), []);
  });

  test("cleanup.ts removes what a SIGKILLed test process left behind", async () => {
    const child = await new Promise<{
      code: number | null;
      signal: string | null;
      stdout: string;
      stderr: string;
    }>((done) => {
      const p = execFile(
        process.execPath,
        ["--import", "tsx", join(REPO, "test/cluster/fixtures/killed-run.ts")],
        { cwd: REPO, timeout: 90_000 },
        (err, stdout, stderr) =>
          done({
            code: p.exitCode,
            signal: p.signalCode ?? (err ? String(err.signal) : null),
            stdout,
            stderr,
          }),
      );
    });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    const idx = Number(child.stdout.trim());
    assert.ok(Number.isInteger(idx), child.stdout);
    const left = leftovers(idx);
    assert.ok(
      left.some((l) => l.startsWith("process ")),
      `a killed run leaves processes: ${left.join(", ")}`,
    );
    assert.ok(left.some((l) => l.startsWith("netns ")));
    const reports = cleanup({ only: [idx] });
    assert.deepEqual(
      reports.map((r) => [r.idx, r.action]),
      [[idx, "removed"]],
      JSON.stringify(reports),
    );
    assert.deepEqual(leftovers(idx), []);
    // the command-line form finds nothing of it any more and never touches live instances
    const cli = await run(
      [process.execPath, "--import", "tsx", join(REPO, "test/cluster/cleanup.ts"), "--dry-run"],
      {
        timeoutMs: 30_000,
      },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.includes(`instance ${idx}:`), false, cli.stdout);
  });
});

describe("pure helpers", () => {
  test("prefix overlap, names, partition rules, foreign mounts", () => {
    assert.equal(prefixesOverlap("172.16.3.0/24", "172.16.0.0/16"), true);
    assert.equal(prefixesOverlap("172.16.3.0/24", "172.16.4.0/24"), false);
    assert.equal(prefixesOverlap("172.16.3.7", "172.16.3.0/24"), true);
    assert.equal(prefixesOverlap("0.0.0.0/0", "172.16.3.0/24"), true);
    assert.equal(instanceOfName("netns", "shc12n3"), 12);
    assert.equal(instanceOfName("link", "shcb7"), 7);
    assert.equal(instanceOfName("link", "shc7v2"), 7);
    assert.equal(instanceOfName("link", "shc700v2"), undefined);
    assert.equal(instanceOfName("cgroup", "shoalc9"), 9);
    assert.equal(instanceOfName("dir", "shcx"), undefined);
    const l = layout(5);
    assert.equal(l.subnet, "172.16.5.0/24");
    assert.equal(nodeLayout(l, 2, "h").addr, "172.16.5.2");
    assert.match(partitionRules(), /iifname "eth0" drop;/);
    assert.match(
      partitionRules(["172.16.5.1", "172.16.5.3"]),
      /ip saddr \{ 172\.16\.5\.1, 172\.16\.5\.3 \} drop/,
    );
    assert.equal(isForeignMount("/run/docker/netns/abc", "nsfs"), true);
    assert.equal(isForeignMount("/var/lib/docker/overlay2/x/merged", "overlay"), true);
    assert.equal(isForeignMount("/tmp/shc4/n1/mnt", "nsfs"), true);
    assert.equal(isForeignMount("/sys/fs/cgroup/pids", "cgroup"), false);
    assert.equal(isForeignMount("/proc", "proc"), false);
  });
});
