/**
 * Forming a swarm out of a dev cluster's nodes, with the real docker CLI: init on the first node,
 * managers joined one at a time (each join adds an etcd member, which must not race another),
 * workers in parallel, then a wait until the first node lists every node Ready.
 */
import type { ClusterNode } from "./node.ts";
import { type CmdResult, waitFor } from "./sys.ts";

export interface SwarmOptions {
  /** How many of the nodes (the first ones) are managers (default 1). */
  managers?: number;
  /**
   * "shoal" (default) drives the nodes' shoal daemons (started if needed); "dockerd" builds a real
   * Docker Swarm from the nodes' dockerds, a reference to compare shoal with.
   */
  via?: "shoal" | "dockerd";
  timeoutMs?: number;
}

export interface SwarmResult {
  managerToken: string;
  workerToken: string;
  /** Node IDs in node order (from `docker info` of each node). */
  nodeIds: string[];
}

export async function formSwarm(
  nodes: readonly ClusterNode[],
  opts: SwarmOptions = {},
): Promise<SwarmResult> {
  const managers = opts.managers ?? 1;
  const via = opts.via ?? "shoal";
  const first = nodes[0];
  if (!first) throw new Error("a swarm needs at least one node");
  if (!Number.isInteger(managers) || managers < 1 || managers > nodes.length)
    throw new Error(`managers must be 1..${nodes.length} (the number of nodes), not ${managers}`);
  const cli = (n: ClusterNode, args: string[]): Promise<CmdResult> =>
    via === "shoal" ? n.docker(args) : n.dockerdCli(args);
  const ok = async (n: ClusterNode, args: string[]): Promise<string> => {
    const r = await cli(n, args);
    if (r.code !== 0) throw new Error(`node ${n.index}: docker ${args.join(" ")}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  if (via === "shoal") await Promise.all(nodes.filter((n) => !n.shoalPid).map((n) => n.startShoal()));
  await ok(first, ["swarm", "init", "--advertise-addr", first.addr]);
  const managerToken = await ok(first, ["swarm", "join-token", "-q", "manager"]);
  const workerToken = await ok(first, ["swarm", "join-token", "-q", "worker"]);
  const join = (n: ClusterNode, token: string): Promise<string> =>
    ok(n, ["swarm", "join", "--token", token, "--advertise-addr", n.addr, `${first.addr}:2377`]);
  for (const n of nodes.slice(1, managers)) await join(n, managerToken);
  await Promise.all(nodes.slice(managers).map((n) => join(n, workerToken)));
  await waitFor(
    `${nodes.length} Ready nodes in \`docker node ls\` on node 1`,
    async () => {
      const r = await cli(first, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
      const ready = r.stdout.split("\n").filter((s) => s.endsWith(" Ready")).length;
      if (ready === nodes.length) return true;
      throw new Error(`${ready} Ready: ${r.stdout.trim()} ${r.stderr.trim()}`);
    },
    opts.timeoutMs ?? 120_000,
    250,
  );
  const nodeIds = await Promise.all(nodes.map((n) => ok(n, ["info", "--format", "{{.Swarm.NodeID}}"])));
  return { managerToken, workerToken, nodeIds };
}
