/**
 * UDP through the routing mesh on one node, with the real docker CLI, a shoal daemon and the
 * machine's dockerd: `-p P:53/udp` answers on loopback, on the host's address and from a client
 * netns behind a veth (forwarded, client address kept), spread over two replicas per datagram
 * flow; `docker service inspect`/`ls` show the port as Swarm does; the same port number can be
 * published for tcp by another service; `--publish-rm` stops the answers, also on a flow that
 * keeps its source port; a flow whose task goes is moved to a live one instead of being sent to
 * the dead address until conntrack forgets it. The UDP servers are node processes in the task
 * containers' netns (test/helpers/udp.ts says why). Traffic goes only to this machine's own
 * addresses and to the test's netns.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { dockerCli as dockerd } from "../helpers/docker.ts";
import { ClientNetns, meshGet } from "../helpers/mesh-client.ts";
import { DOCKER_20, DOCKER_28, freeTcpPort, ShoalDaemon, waitFor } from "../helpers/shoal.ts";
import {
  askUdp,
  probeFrom,
  type Responder,
  sleeperService,
  startResponder,
  UdpFlow,
  udpAnswers,
} from "../helpers/udp.ts";

const REPO = new URL("../..", import.meta.url).pathname;
const X = Math.floor(Math.random() * 250);
// an unusual pool, so that the ingress bridge overlaps no other cluster's on this dockerd
const POOL = `10.218.${X}.0/24`;
const NS = `shoaludp${process.pid}`;
const VETH = `sud${process.pid}`.slice(0, 15);
const HOST_A = `10.252.${X}.1`;
const CLIENT_A = `10.252.${X}.2`;
const client = new ClientNetns(NS, VETH, HOST_A, CLIENT_A);
const HTTPD = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www";

const sh = (cmd: string[]): string => execFileSync(cmd[0] ?? "", cmd.slice(1), { encoding: "utf8" });

const distinct = (answers: Array<string | undefined | null>): Set<string> =>
  new Set(answers.filter((a): a is string => typeof a === "string"));

before(() => {
  // fails loudly (throws) when dockerd cannot be started
  execFileSync("bash", ["scripts/start-dockerd.sh"], { cwd: REPO, stdio: "inherit" });
});

describe("UDP through the routing mesh on one node", () => {
  const daemon = new ShoalDaemon();
  const responders = new Map<string, Responder>();
  /** Hostnames of the served tasks, by container ID. */
  const hosts = new Map<string, string>();
  const flows: UdpFlow[] = [];
  let nodeId = "";
  let port = 0;
  let port2 = 0;
  const ok = async (args: string[]) => {
    const res = await daemon.docker(args);
    assert.equal(res.code, 0, `docker ${args.join(" ")}: ${res.stderr}`);
    return res.stdout;
  };

  /** Waits for `n` running containers of `service` and puts a responder into each new one. */
  async function serve(service: string, n: number): Promise<string[]> {
    const ids = await waitFor(
      `${n} running containers of ${service}`,
      async () => {
        const ids = await running(service);
        return ids.length === n ? ids : undefined;
      },
      90_000,
    );
    for (const id of ids) await respond(id);
    return ids.map((id) => hosts.get(id) ?? "");
  }

  /** The running containers of `service` now. */
  const running = async (service: string): Promise<string[]> => {
    const res = await dockerd(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]);
    return res.stdout.split("\n").filter(Boolean);
  };

  /** A responder in container `id` unless it has one. */
  async function respond(id: string): Promise<void> {
    if (responders.has(id)) return;
    const fmt = "{{.State.Pid}} {{.Config.Hostname}}";
    const [pid, host] = (await dockerd(["inspect", "-f", fmt, id])).stdout.trim().split(" ");
    responders.set(id, await startResponder(Number(pid), [53, 54], host ?? ""));
    hosts.set(id, host ?? "");
  }

  /** What the mesh looks like now: for a failure's message. */
  const diagnose = async (err: unknown): Promise<never> => {
    const table = await dockerd(["version"]).then(() => {
      try {
        return sh(["nft", "list", "table", "ip", `shoal_mesh_${daemon.pid}`]);
      } catch (e) {
        return String(e);
      }
    });
    const ps = await dockerd([
      "ps",
      "--filter",
      `label=com.docker.swarm.node.id=${nodeId}`,
      "--format",
      "{{.ID}} {{.Names}} {{.Status}}",
    ]);
    const ips = await Promise.all(
      ps.stdout
        .split("\n")
        .filter(Boolean)
        .map(async (l) => {
          const id = l.split(" ")[0] ?? "";
          const r = await dockerd([
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}{{.Config.Hostname}}",
            id,
          ]);
          return `${l} | ${r.stdout.trim()} | responder ${responders.has(id)}`;
        }),
    );
    const log = daemon
      .log()
      .split("\n")
      .filter((l) => /"level":(40|50)/.test(l))
      .slice(-15)
      .join("\n");
    throw new Error(
      `${String(err)}\n--- mesh table\n${table}\n--- containers\n${ips.join("\n")}\n--- daemon warnings\n${log}`,
    );
  };

  /** `service update` of udpdns, then its tasks once this update (a new StartedAt) is done, served again. */
  async function update(args: string[]): Promise<void> {
    const fmt = "{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}|{{.UpdateStatus.State}}{{end}}";
    const status = async () => (await ok(["service", "inspect", "--format", fmt, "udpdns"])).trim();
    const before = (await status()).split("|")[0];
    await ok(["service", "update", "-d", ...args, "udpdns"]);
    await waitFor(
      "the update of udpdns to complete",
      async () => {
        const now = await status();
        const [started, state] = now.split("|");
        if (started !== before && state === "completed") return state;
        throw new Error(`UpdateStatus ${now}`);
      },
      90_000,
    );
    await serve("udpdns", 2);
  }

  before(async () => {
    port = await freeTcpPort();
    port2 = await freeTcpPort();
    await daemon.start();
    assert.equal((await daemon.init(["--default-addr-pool", POOL])).code, 0);
    nodeId = (await ok(["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    client.create();
  });
  after(async () => {
    for (const f of flows) f.close();
    for (const r of responders.values()) r.stop();
    client.remove();
    await daemon.disposeSwarm(nodeId, ["udpdns", "tcpweb", "udpdrain", "udphost"]);
  });

  test("-p P:53/udp answers on loopback, the host's address and from a client netns, from both replicas", async () => {
    await ok(
      sleeperService("udpdns", [
        "--replicas",
        "2",
        // sleep as pid 1 ignores SIGTERM: each rolling step would wait 10 s for the kill
        "--stop-grace-period",
        "1s",
        "-p",
        `${port}:53/udp`,
      ]),
    );
    const tasks = new Set(await serve("udpdns", 2));
    assert.equal(tasks.size, 2);
    const seen = await waitFor(
      `127.0.0.1:${port}/udp answering from both replicas`,
      async () => {
        const s = distinct(await udpAnswers("127.0.0.1", port, 12));
        return s.size === 2 ? s : undefined;
      },
      60_000,
    );
    assert.deepEqual([...seen].sort(), [...tasks].sort());
    const own = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal && a.address !== HOST_A)?.address;
    assert.ok(own, "the machine has a non-loopback IPv4 address");
    const there = await udpAnswers(own, port, 12);
    assert.ok(
      there.every((a) => a !== undefined),
      `every datagram to ${own}:${port} answered: ${there}`,
    );
    assert.deepEqual([...distinct(there)].sort(), [...tasks].sort(), `${own}:${port}`);
    const fromNs = probeFrom(["ip", "netns", "exec", NS], HOST_A, port, 12);
    assert.ok(
      fromNs.every((a) => a !== null),
      `every datagram from the client netns answered: ${JSON.stringify(fromNs)}`,
    );
    assert.deepEqual([...distinct(fromNs)].sort(), [...tasks].sort(), "from the client netns");
  });

  test("service inspect and ls show the udp port as Swarm does", async () => {
    const ports = JSON.parse(
      await ok(["service", "inspect", "--format", "{{json .Endpoint.Ports}}", "udpdns"]),
    );
    assert.deepEqual(ports, [
      { Protocol: "udp", TargetPort: 53, PublishedPort: port, PublishMode: "ingress" },
    ]);
    const spec = JSON.parse(
      await ok(["service", "inspect", "--format", "{{json .Spec.EndpointSpec.Ports}}", "udpdns"]),
    );
    assert.deepEqual(spec, [
      { Protocol: "udp", TargetPort: 53, PublishedPort: port, PublishMode: "ingress" },
    ]);
    for (const bin of [DOCKER_20, DOCKER_28]) {
      const cli = async (args: string[]) => {
        const res = await daemon.docker(args, { bin });
        assert.equal(res.code, 0, `${bin} ${args.join(" ")}: ${res.stderr}`);
        return res.stdout;
      };
      const ls = await cli(["service", "ls", "--filter", "name=udpdns", "--format", "{{.Name}} {{.Ports}}"]);
      assert.equal(ls.trim(), `udpdns *:${port}->53/udp`, bin);
      const pretty = await cli(["service", "inspect", "--pretty", "udpdns"]);
      assert.match(
        pretty,
        new RegExp(`PublishedPort = ${port}\\s+Protocol = udp\\s+TargetPort = 53\\s+PublishMode = ingress`),
        bin,
      );
    }
  });

  test("another service publishes the same port number for tcp", async () => {
    await ok([
      "service",
      "create",
      "-d",
      "--no-resolve-image",
      "--name",
      "tcpweb",
      "--publish",
      `published=${port},target=80`,
      "busybox:local",
      "sh",
      "-c",
      HTTPD,
    ]);
    const body = await waitFor(`127.0.0.1:${port}/tcp`, () => meshGet("127.0.0.1", port), 60_000);
    assert.ok(body.length > 0 && !hosts.has(body), "the tcp answer comes from tcpweb");
    const udp = distinct(await udpAnswers("127.0.0.1", port, 6));
    assert.ok(
      udp.size > 0 && [...udp].every((h) => [...hosts.values()].includes(h)),
      "udp still goes to udpdns",
    );
    const again = await daemon.docker(sleeperService("udpdup", ["-p", `${port}:53/udp`]));
    assert.notEqual(again.code, 0, "a second udp publisher of the port is refused");
    assert.match(again.stderr, new RegExp(`port '${port}' is already in use by service 'udpdns'`));
  });

  test("a flow whose task goes is answered by a live task", async () => {
    const flow = new UdpFlow("127.0.0.1", port);
    flows.push(flow);
    const first = await waitFor("an answer on a kept flow", () => flow.ask(), 10_000);
    const [gone] = [...hosts].find(([, h]) => h === first) ?? [];
    assert.ok(gone, `${first} is one of the served tasks`);
    await dockerd(["rm", "-f", gone]);
    responders.get(gone)?.stop();
    responders.delete(gone);
    // the flow keeps its source port and never pauses long enough for conntrack to forget it
    const next = await waitFor(
      "the kept flow answered by another task",
      async () => {
        const a = await flow.ask(500);
        return a && a !== first ? a : undefined;
      },
      15_000,
    );
    assert.notEqual(next, first);
    await serve("udpdns", 2);
  });

  test("--publish-add with the long syntax and --publish-rm stop and start the answers", async () => {
    // another target port: the CLI's --publish-rm removes every port of a target and protocol
    await update(["--publish-add", `published=${port2},target=54,protocol=udp`]);
    const ports = JSON.parse(
      await ok(["service", "inspect", "--format", "{{json .Endpoint.Ports}}", "udpdns"]),
    );
    assert.equal(ports.length, 2, JSON.stringify(ports));
    await waitFor(
      `${port2}/udp answering`,
      async () => distinct(await udpAnswers("127.0.0.1", port2, 4)).size > 0,
      30_000,
    ).catch(diagnose);
    const flow = new UdpFlow("127.0.0.1", port);
    flows.push(flow);
    await waitFor("an answer on a kept flow to the first port", () => flow.ask(), 30_000);
    await update(["--publish-rm", `published=${port},target=53,protocol=udp`]);
    await waitFor(
      `${port}/udp silent after --publish-rm`,
      async () => (await udpAnswers("127.0.0.1", port, 3)).every((a) => a === undefined),
      10_000,
    );
    // the kept flow stays silent: no stale conntrack entry sends it on to a task
    for (let i = 0; i < 5; i++) assert.equal(await flow.ask(300), undefined, "the kept flow is silent");
    await waitFor(
      `${port2}/udp still answering`,
      async () => distinct(await udpAnswers("127.0.0.1", port2, 4)).size > 0,
      20_000,
    ).catch(diagnose);
    await waitFor(`${port}/tcp (tcpweb) still answering`, () => meshGet("127.0.0.1", port), 10_000).catch(
      diagnose,
    );
  });
  test("a kept flow on a draining task moves to the other task while that one still runs", async () => {
    const port3 = await freeTcpPort();
    await ok(
      sleeperService("udpdrain", [
        "--replicas",
        "2",
        "--stop-grace-period",
        "1s",
        // the going task leaves the mesh 15 s before its stop signal, still answering its flows
        "--label",
        "io.shoal.drain-period=15s",
        "-p",
        `${port3}:53/udp`,
      ]),
    );
    const tasks = new Set(await serve("udpdrain", 2));
    const byTask = new Map<string, UdpFlow>();
    await waitFor(
      "a kept flow on each task of udpdrain",
      async () => {
        const f = new UdpFlow("127.0.0.1", port3);
        flows.push(f);
        const a = await f.ask();
        if (a && tasks.has(a) && !byTask.has(a)) byTask.set(a, f);
        return byTask.size === 2;
      },
      30_000,
    );
    await ok(["service", "scale", "-d", "udpdrain=1"]);
    // the draining task's flow is forgotten with its rule: its next datagram goes to the other task
    const moved = await waitFor(
      "a kept flow answered by the other task",
      async () => {
        for (const [task, f] of byTask) {
          const a = await f.ask(300);
          if (a && a !== task) return a;
        }
        return undefined;
      },
      10_000,
    );
    assert.ok(tasks.has(moved));
    const running = await dockerd(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=udpdrain"]);
    assert.equal(running.stdout.split("\n").filter(Boolean).length, 2, "the draining task still runs");
  });
  test("a kept flow reaches the task that replaces the only one (no refusal kept from the gap)", async () => {
    const fmt = "{{(index .Endpoint.Ports 0).PublishedPort}}";
    const port3 = Number((await ok(["service", "inspect", "--format", fmt, "udpdrain"])).trim());
    await serve("udpdrain", 1);
    const [only = ""] = await running("udpdrain");
    const flow = new UdpFlow("127.0.0.1", port3);
    flows.push(flow);
    const first = await waitFor("an answer on a kept flow", () => flow.ask(), 10_000).catch(diagnose);
    assert.equal(first, hosts.get(only));
    await dockerd(["rm", "-f", only]);
    responders.get(only)?.stop();
    // the flow keeps sending through the gap (refused while no task runs), then the new task answers
    const next = await waitFor(
      "the kept flow answered by the new task",
      async () => {
        const a = await flow.ask(500);
        for (const id of await running("udpdrain")) await respond(id).catch(() => undefined);
        return a && a !== first ? a : undefined;
      },
      60_000,
    );
    assert.notEqual(next, first);
  });
  test("a host-mode udp port answers on the node through dockerd", async () => {
    const hostPort = await freeTcpPort();
    await ok(
      sleeperService("udphost", [
        "--stop-grace-period",
        "1s",
        "--publish",
        `mode=host,published=${hostPort},target=53,protocol=udp`,
      ]),
    );
    const [task] = await serve("udphost", 1);
    const ls = await ok(["service", "ls", "--filter", "name=udphost", "--format", "{{.Ports}}"]);
    assert.equal(ls.trim(), "", "the CLI's PORTS column lists ingress ports only, as with Swarm");
    const answer = await waitFor(
      `127.0.0.1:${hostPort}/udp (host mode)`,
      () => askUdp("127.0.0.1", hostPort),
      30_000,
    );
    assert.equal(answer, task);
  });
});
