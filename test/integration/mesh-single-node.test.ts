/**
 * The routing mesh on one node with the real docker CLI, a shoal daemon and the machine's dockerd:
 * `docker service create -p` answers on the node's loopback and its own address, spread over the
 * replicas; short connections from a client netns behind a veth (forwarded, client address kept)
 * lose no packet, also while dockerd creates networks; a host-mode port still binds through
 * dockerd; `swarm leave` takes the mesh's nft table and filter rules (DOCKER-USER and FORWARD)
 * away. Traffic goes only to this machine's own addresses and to the test's netns.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { dockerCli as dockerd } from "../helpers/docker.ts";
import { ClientNetns, meshGet } from "../helpers/mesh-client.ts";
import { freeTcpPort, ShoalDaemon, waitFor } from "../helpers/shoal.ts";

const execFileAsync = promisify(execFile);
const REPO = new URL("../..", import.meta.url).pathname;
// an unusual pool, so that the ingress bridge overlaps no other cluster's on this dockerd
const X = Math.floor(Math.random() * 250);
const POOL = `10.216.${X}.0/24`;
const NS = `shoalmesh1n${process.pid}`;
const VETH = `sm1${process.pid}`.slice(0, 15);
const HOST_A = `10.253.${X}.1`;
const CLIENT_A = `10.253.${X}.2`;
const client = new ClientNetns(NS, VETH, HOST_A, CLIENT_A);
const HTTPD = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www";

const sh = (cmd: string[]): string => {
  try {
    return execFileSync(cmd[0] ?? "", cmd.slice(1), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return "";
  }
};

/** A TcpExt counter of /proc/net/netstat in the test's netns. */
function netnsTcpExt(name: string): number {
  const [keys, values] = sh(["ip", "netns", "exec", NS, "cat", "/proc/net/netstat"])
    .split("\n")
    .filter((l) => l.startsWith("TcpExt:"))
    .map((l) => l.split(/\s+/));
  const at = keys?.indexOf(name) ?? -1;
  assert.ok(at > 0 && values, `${name} in the netns's /proc/net/netstat`);
  return Number(values[at]);
}

/** The distinct answers of `n` requests, or undefined if one failed. */
async function backends(host: string, port: number, n: number): Promise<Set<string> | undefined> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const body = await meshGet(host, port);
    if (body === undefined) return undefined;
    seen.add(body);
  }
  return seen;
}

before(() => {
  // fails loudly (throws) when dockerd cannot be started
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

describe("routing mesh on one node", () => {
  const daemon = new ShoalDaemon();
  let nodeId = "";
  let meshPort = 0;
  let hostPort = 0;
  const ok = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };

  before(async () => {
    meshPort = await freeTcpPort();
    hostPort = await freeTcpPort();
    await daemon.start();
    assert.equal((await daemon.init(["--default-addr-pool", POOL])).code, 0);
    nodeId = (await ok(["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    client.create();
  });
  after(async () => {
    client.remove();
    await daemon.disposeSwarm(nodeId, ["meshweb", "hostweb"]);
  });

  test("service create -p answers on loopback and the host's address, from both replicas", async () => {
    const out = await daemon.docker([
      "service",
      "create",
      "-d",
      "--name",
      "meshweb",
      "--replicas",
      "2",
      "-p",
      `${meshPort}:80`,
      "busybox:local",
      "sh",
      "-c",
      HTTPD,
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stderr, /routing mesh/, "no mesh warning any more");
    const seen = await waitFor(
      `127.0.0.1:${meshPort} answering from two replicas`,
      async () => {
        const s = await backends("127.0.0.1", meshPort, 10);
        return s && s.size === 2 ? s : undefined;
      },
      90_000,
    );
    assert.equal(seen.size, 2);
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    assert.ok(own, "the machine has a non-loopback IPv4 address");
    const there = await backends(own, meshPort, 10);
    assert.deepEqual([...(there ?? [])].sort(), [...seen].sort(), `${own}:${meshPort}`);
    const table = `shoal_mesh_${daemon.pid}`;
    assert.match(sh(["nft", "list", "tables"]), new RegExp(`^table ip ${table}$`, "m"));
    assert.match(sh(["iptables", "-S", "DOCKER-USER"]), new RegExp(`shoal-mesh-${daemon.pid} `));
    // in FORWARD too, right after the jump to DOCKER-USER (users' filters there come first)
    const forward = sh(["iptables", "-S", "FORWARD"]).split("\n");
    const ours = forward.findIndex((l) => l.includes(`shoal-mesh-${daemon.pid} `));
    assert.ok(ours > 0, "a FORWARD rule of this daemon");
    assert.ok(forward.indexOf("-A FORWARD -j DOCKER-USER") < ours, "after the jump to DOCKER-USER");
  });

  test("short connections from a client netns (client address kept) lose no packet while dockerd creates networks", async () => {
    // dockerd moves its FORWARD jump to DOCKER-USER to the top on every network it creates (delete,
    // then insert); a mesh whose accept rules lived only in DOCKER-USER dropped the SYNs in between,
    // each costing a 1 s retransmission. The netns is the test's own, so its SYN retransmission
    // counter is exactly this burst's. Bounded: 6 s or 20 000 requests, 5 networks.
    const retrans0 = netnsTcpExt("TCPSynRetrans");
    const load = execFileAsync(
      "ip",
      [
        ...["netns", "exec", NS, "node", "--import", "tsx", "bench/mesh-load.ts"],
        ...["--url", `http://${HOST_A}:${meshPort}/`, "--concurrency", "8", "--timeout-ms", "3000"],
        ...["--seconds", "6", "--max-requests", "20000"],
      ],
      { cwd: REPO, encoding: "utf8" },
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 5; i++) {
      const name = `shoal-meshjump-${process.pid}-${i}`;
      const made = await dockerd(["network", "create", name]);
      assert.equal(made.code, 0, made.stderr);
      await dockerd(["network", "rm", name]);
    }
    const r = JSON.parse((await load).stdout) as {
      requests: number;
      errors: Record<string, number>;
      max: number;
    };
    assert.deepEqual(r.errors, {}, "no request failed");
    assert.ok(r.requests > 100, `${r.requests} requests`);
    assert.equal(netnsTcpExt("TCPSynRetrans") - retrans0, 0, "no SYN was retransmitted");
    assert.ok(r.max < 900, `the slowest request took ${r.max} ms (a retransmission wait)`);
  });

  test("a host-mode port still binds on the node through dockerd", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--name",
      "hostweb",
      "--publish",
      `mode=host,published=${hostPort},target=80`,
      "busybox:local",
      "sh",
      "-c",
      HTTPD,
    ]);
    const body = await waitFor(
      `127.0.0.1:${hostPort} (host mode)`,
      () => meshGet("127.0.0.1", hostPort),
      60_000,
    );
    assert.ok(body.length > 0);
  });

  test("swarm leave removes the mesh's table and filter rules", async () => {
    const pid = daemon.pid;
    await ok(["swarm", "leave", "--force"]);
    assert.doesNotMatch(sh(["nft", "list", "tables"]), new RegExp(`shoal_mesh_${pid}$`, "m"));
    assert.doesNotMatch(sh(["iptables", "-S", "DOCKER-USER"]), new RegExp(`shoal-mesh-${pid} `));
    assert.doesNotMatch(sh(["iptables", "-S", "FORWARD"]), new RegExp(`shoal-mesh-${pid} `));
    assert.equal(await meshGet("127.0.0.1", meshPort), undefined, "the port no longer answers");
  });
});
