/**
 * UDP across two nodes (a manager and a worker, FORWARD policy DROP as on a real host): a udp port
 * published in ingress mode answers on the node without a task, from the task on the other node;
 * a client task on an overlay reaches a udp service through its VIP; a flow that keeps its source
 * port through the node without a task reaches the task that replaces the only one (the flow is
 * held by that node's conntrack, whose dockerd never knew the gone container), and so does the
 * client task's kept flow to the VIP (held in the client's netns). The UDP servers
 * and the client's datagrams are node processes in the containers' netns (test/helpers/udp.ts).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { before, describe, test } from "node:test";
import { waitFor } from "../helpers/shoal.ts";
import {
  askUdp,
  keptFlowArgs,
  probeFrom,
  type Responder,
  sleeperService,
  startResponder,
  UdpFlow,
  udpAnswers,
} from "../helpers/udp.ts";
import { ClusterHarness } from "./harness.ts";
import { disposeAfterTests, forwardPolicyDrop } from "./per-file.ts";

const PORT = 5353;

describe("UDP through the mesh and a VIP across two nodes", () => {
  let cluster: ClusterHarness;
  /** dns's VIP on udpnet and the client container's host pid (set by the VIP test). */
  let vip = "";
  let clientPid = 0;
  const responders = new Map<string, Responder>();
  const flows: UdpFlow[] = [];
  const children: ChildProcess[] = [];
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 2, name: "mudp", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 1 });
    await forwardPolicyDrop(cluster);
  });
  disposeAfterTests(() => {
    // also called for the log tails of a failed test: everything here may run twice
    for (const f of flows.splice(0)) f.close();
    for (const c of children.splice(0)) c.kill("SIGKILL");
    for (const r of responders.values()) r.stop();
    responders.clear();
    return cluster;
  });

  const ok = async (args: string[]) => {
    const r = await cluster.node(1).docker(args);
    assert.equal(r.code, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  /** The running containers of `service` on node `i`: ID, host pid and hostname. */
  const containers = async (i: number, service: string) => {
    const node = cluster.node(i);
    const ps = await node.dockerdCli([
      "ps",
      "-q",
      "--filter",
      `label=com.docker.swarm.service.name=${service}`,
    ]);
    const out: Array<{ id: string; pid: number; host: string }> = [];
    for (const id of ps.stdout.split("\n").filter(Boolean)) {
      const r = await node.dockerdCli(["inspect", "-f", "{{.State.Pid}} {{.Config.Hostname}}", id]);
      const [pid, host = ""] = r.stdout.trim().split(" ");
      if (Number(pid) > 0) out.push({ id, pid: Number(pid), host });
    }
    return out;
  };
  /** The one running container of `service` on node `i`, once there is just one. */
  const theOne = async (i: number, service: string) => {
    const [c] = await waitFor(
      `the ${service} task running on node ${i}`,
      async () => {
        const cs = await containers(i, service);
        return cs.length === 1 ? cs : undefined;
      },
      90_000,
    );
    assert.ok(c);
    return c;
  };
  /** A responder in each running dns container on node 2 that has none yet. */
  const respondDns = async (): Promise<void> => {
    for (const c of await containers(2, "dns")) {
      if (!responders.has(c.id)) responders.set(c.id, await startResponder(c.pid, [53], c.host));
    }
  };
  /** The one running container of dns on node 2, with a responder: its hostname. */
  const serveDns = async (): Promise<string> => {
    const c = await theOne(2, "dns");
    if (!responders.has(c.id)) responders.set(c.id, await startResponder(c.pid, [53], c.host));
    return c.host;
  };

  test("a udp port answers on the node without a task, from the task on the other node", async () => {
    await ok(["network", "create", "-d", "overlay", "--subnet", "10.213.0.0/24", "udpnet"]);
    await ok(
      sleeperService("dns", [
        "--network",
        "udpnet",
        "--stop-grace-period",
        "1s",
        "--constraint",
        `node.hostname==${cluster.node(2).hostname}`,
        "-p",
        `${PORT}:53/udp`,
      ]),
    );
    const host = await serveDns();
    for (const n of cluster.nodes) {
      const seen = await waitFor(
        `${n.addr}:${PORT}/udp answering`,
        async () => {
          const a = await udpAnswers(n.addr, PORT, 4);
          return a.every((x) => x !== undefined) ? a : undefined;
        },
        60_000,
      );
      assert.deepEqual([...new Set(seen)], [host], `${n.addr}:${PORT}`);
    }
  });

  test("a client task on the overlay reaches the udp service through its VIP", async () => {
    await ok(sleeperService("client", ["--network", "udpnet", "--constraint", "node.role==manager"]));
    const fmt = "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}";
    vip =
      (await ok(["service", "inspect", "--format", fmt, "dns"]))
        .split(" ")
        .map((a) => a.split("/")[0] ?? "")
        .find((a) => a.startsWith("10.213.0.")) ?? "";
    assert.ok(vip, "dns has a VIP on udpnet");
    const client = await theOne(1, "client");
    clientPid = client.pid;
    const host = await serveDns();
    const answers = await waitFor(
      `${vip}:53/udp answering the client`,
      async () => {
        const a = probeFrom(["nsenter", `--net=/proc/${client.pid}/ns/net`], vip, 53, 3);
        return a.every((x) => x !== null) ? a : undefined;
      },
      60_000,
    );
    assert.deepEqual([...new Set(answers)], [host]);
  });

  /** Removes dns's only container (on node 2) behind shoal's back, with its responder. */
  const removeDnsTask = async () => {
    const [gone] = await containers(2, "dns");
    assert.ok(gone);
    await cluster.node(2).dockerdCli(["rm", "-f", gone.id]);
    responders.get(gone.id)?.stop();
  };

  test("a kept flow through the node without a task reaches the task that replaces the only one", async () => {
    const via = cluster.node(1).addr;
    const first = await serveDns();
    const flow = new UdpFlow(via, PORT);
    flows.push(flow);
    assert.equal(await waitFor("an answer on a kept flow", () => flow.ask(), 10_000), first);
    await removeDnsTask();
    // the flow keeps sending while no task runs, then the new task on node 2 must answer it
    const next = await waitFor(
      "the kept flow answered by the new task",
      async () => {
        const a = await flow.ask(500);
        await respondDns();
        return a && a !== first ? a : undefined;
      },
      90_000,
    );
    assert.notEqual(next, first);
    assert.equal(await askUdp(via, PORT), next, "a new flow reaches the same task");
  });

  test("a client task's kept flow to the VIP reaches the task that replaces the only one", async () => {
    assert.ok(vip && clientPid > 0, "the VIP test ran");
    const first = await serveDns();
    const child = spawn("nsenter", [`--net=/proc/${clientPid}/ns/net`, ...keptFlowArgs(vip, 53, 90)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const lines: string[] = [];
    child.stdout?.on("data", (d: Buffer) => lines.push(...d.toString().split("\n").filter(Boolean)));
    assert.equal(await waitFor("the kept flow's first answer", async () => lines[0], 10_000), first);
    await removeDnsTask();
    const next = await waitFor(
      "the client's kept flow answered by the new task",
      async () => {
        await respondDns();
        return lines[1];
      },
      90_000,
    );
    assert.notEqual(next, first);
    child.kill("SIGKILL");
  });
});
