/**
 * A multi-node cluster on one machine for shoal's cluster tests (DESIGN §7). See README.md.
 *
 *   const cluster = await ClusterHarness.create({ nodes: 3, name: "t1" });
 *   await cluster.node(1).startShoal();
 *   await cluster.node(1).docker(["swarm", "init", "--advertise-addr", cluster.node(1).addr]);
 *   await cluster.partition(2); await cluster.heal(2);
 *   await cluster.dispose();
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureTestImage, startDockerd, TEST_IMAGE } from "../helpers/docker.ts";
import type { CliResult } from "../helpers/shoal.ts";
import { type Layout, MAX_NODES, nodeLayout } from "./layout.ts";
import { claimInstance, type PartitionDirection, setupBridge, setupNodeNetwork } from "./network.ts";
import { BINARIES, ClusterNode, type Daemon, tail } from "./node.ts";
import { type Registry, startRegistry } from "./registry.ts";
import { must, procCmdline, pssKiB, waitFor } from "./sys.ts";
import { leftovers, teardownSync } from "./teardown.ts";

export type { CliResult } from "../helpers/shoal.ts";
export type { PartitionDirection } from "./network.ts";
export { ClusterNode, type ShoalStartOptions } from "./node.ts";
export type { Registry } from "./registry.ts";
export { waitFor } from "./sys.ts";
export { leftovers } from "./teardown.ts";

export interface ClusterOptions {
  /** Number of nodes (1..200). */
  nodes: number;
  /** A label for logs and hostnames: node i is `<name>-node<i>` (default "shoal"). */
  name?: string;
  /** Start a registry with the image pushed to it (default true). */
  registry?: boolean;
  /** `docker load` the image into every node's dockerd (default true). */
  preload?: boolean;
  /** The image taken from the machine's own dockerd (default busybox:local, built if missing). */
  image?: string;
  /** Start a shoal daemon on every node (default false); an array gives its extra arguments. */
  shoal?: boolean | readonly string[];
  /** Extra flags for every node's dockerd. */
  dockerdArgs?: readonly string[];
  /**
   * Copy the daemons' logs to a directory on dispose: a path, or true for
   * /tmp/shoal-cluster-logs/<name>-<time>. Default: $SHOAL_CLUSTER_KEEP_LOGS (a path or "1").
   */
  keepLogs?: boolean | string;
}

/**
 * When each phase of create() was done on every node, in seconds since create() began (nodes go
 * through the phases independently, so phases overlap).
 */
export interface Timings {
  /** state dir mount, bridge, forward rules */
  network: number;
  /** every node: netns, veth, namespaces, containerd, dockerd answering */
  dockerd: number;
  /** the image loaded into every node */
  image: number;
  /** the registry up with the image pushed */
  registry: number;
  /** every shoal daemon answering (if `shoal`) */
  shoal: number;
  total: number;
}

export interface SwarmResult {
  managerToken: string;
  workerToken: string;
  /** Node IDs in node order (from `docker info` of each node). */
  nodeIds: string[];
}

export interface ProcessMemory {
  pid: number;
  command: string;
  pssKiB: number;
}

/** Thrown by create() when the cluster cannot be started; everything it made is already removed. */
export class ClusterStartError extends Error {
  constructor(
    message: string,
    readonly idx: number,
  ) {
    super(message);
  }
}

const live = new Set<ClusterHarness>();
let hooksInstalled = false;

/** Tear down every live harness when the process exits or is interrupted (best effort, synchronous). */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const h of live) h.disposeSync();
  });
  for (const [sig, num] of [
    ["SIGINT", 2],
    ["SIGTERM", 15],
    ["SIGHUP", 1],
  ] as const) {
    process.once(sig, () => {
      for (const h of live) h.disposeSync();
      process.exit(128 + num);
    });
  }
}

function preflight(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (run the tests as root)");
  for (const [name, path] of Object.entries(BINARIES))
    if (!existsSync(path)) missing.push(`${name} (${path})`);
  if (!existsSync("/sys/fs/cgroup/pids") && !existsSync("/sys/fs/cgroup/cgroup.controllers"))
    missing.push("a pids cgroup hierarchy");
  if (missing.length > 0)
    throw new Error(
      `the cluster harness cannot run here; missing: ${missing.join(", ")} (see scripts/setup.sh)`,
    );
}

const seconds = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;

export class ClusterHarness {
  private readonly nodeList: ClusterNode[] = [];
  readonly name: string;
  /** The instance number: the harness network is 172.16.<idx>.0/24. */
  readonly idx: number;
  readonly subnet: string;
  /** The bridge's address in the root namespace (also the registry's host). */
  readonly gateway: string;
  readonly bridge: string;
  /** State directory (/tmp/shc<idx>): node dirs, sockets, logs. */
  readonly dir: string;
  readonly timings: Timings = { network: 0, dockerd: 0, image: 0, registry: 0, shoal: 0, total: 0 };
  private registryInfo: Registry | undefined;
  private registryProc: Daemon | undefined;
  private disposed = false;

  private constructor(
    private readonly l: Layout,
    private readonly opts: ClusterOptions,
  ) {
    this.name = opts.name ?? "shoal";
    this.idx = l.idx;
    this.subnet = l.subnet;
    this.gateway = l.gateway;
    this.bridge = l.bridge;
    this.dir = l.dir;
    for (let i = 1; i <= opts.nodes; i++) this.nodeList.push(this.makeNode(i));
  }

  private makeNode(i: number): ClusterNode {
    return new ClusterNode(i, nodeLayout(this.l, i, `${this.name}-node${i}`), this.l, {
      dockerdArgs: this.opts.dockerdArgs ?? [],
    });
  }

  /** The nodes, in order (node(i) is nodes[i - 1]). */
  get nodes(): readonly ClusterNode[] {
    return this.nodeList;
  }

  /**
   * Builds the cluster: network, every node's containerd + dockerd (in parallel), the image in every
   * node and in the registry, and shoal daemons if asked. On failure removes everything and throws
   * a ClusterStartError with the daemons' log tails.
   */
  static async create(opts: ClusterOptions): Promise<ClusterHarness> {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES)
      throw new Error(`nodes must be 1..${MAX_NODES}`);
    if (opts.name !== undefined && !/^[a-z0-9][a-z0-9-]{0,40}$/.test(opts.name))
      throw new Error(`name ${JSON.stringify(opts.name)}: use [a-z0-9-], at most 41 characters`);
    preflight();
    const l = claimInstance(opts.name ?? "shoal", opts.nodes);
    const h = new ClusterHarness(l, opts);
    live.add(h);
    installExitHooks();
    try {
      await h.up();
    } catch (err) {
      const logs = h.logTails(15);
      let cleanup = "";
      try {
        await h.dispose();
      } catch (e) {
        cleanup = `\n(cleanup also failed: ${e instanceof Error ? e.message : String(e)})`;
      }
      const msg = err instanceof Error ? err.message : String(err);
      throw new ClusterStartError(
        `cluster "${h.name}" (instance ${l.idx}) did not start: ${msg}${cleanup}\n${logs}`,
        l.idx,
      );
    }
    return h;
  }

  private async up(): Promise<void> {
    const t0 = performance.now();
    const at = (): number => seconds(t0);
    const wantImage = this.opts.preload !== false || this.opts.registry !== false;
    const image = this.opts.image ?? TEST_IMAGE;
    const imageSaved = wantImage ? this.saveImage(image) : Promise.resolve();
    imageSaved.catch(() => {});
    // the state dir becomes a private mount so that namespace files can be bound inside it
    await must(["mount", "--bind", this.l.dir, this.l.dir]);
    await must(["mount", "--make-private", this.l.dir]);
    await setupBridge(this.l);
    this.timings.network = at();
    const registryStarted = this.opts.registry !== false ? startRegistry(this.l) : undefined;
    registryStarted?.catch(() => {});
    const shoalArgs = Array.isArray(this.opts.shoal) ? (this.opts.shoal as readonly string[]) : [];
    // each node on its own: network → namespaces → containerd → dockerd, then shoal alongside
    // the image load (and, on node 1, the push to the registry)
    const phases = { dockerd: 0, image: 0, registry: 0, shoal: 0 };
    const done = (phase: keyof typeof phases): void => {
      phases[phase] = Math.max(phases[phase], at());
    };
    // allSettled: on a failure nothing may still be starting processes when dispose() runs
    const results = await Promise.allSettled(
      this.nodes.map(async (n) => {
        await this.bringUp(n);
        done("dockerd");
        const shoal = this.opts.shoal ? n.startShoal(shoalArgs).then(() => done("shoal")) : Promise.resolve();
        shoal.catch(() => {});
        if (this.opts.preload !== false || (n.index === 1 && wantImage)) {
          await imageSaved;
          await this.loadImage(n);
          done("image");
        }
        if (n.index === 1 && registryStarted) {
          this.registryProc = await registryStarted;
          this.registryInfo = await this.pushImage(image);
          done("registry");
        }
        await shoal;
      }),
    );
    await Promise.all([registryStarted?.catch(() => undefined), imageSaved.catch(() => undefined)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    Object.assign(this.timings, phases);
    this.timings.total = at();
  }

  private async bringUp(n: ClusterNode): Promise<void> {
    await setupNodeNetwork(this.l, n.paths);
    await n.setupNamespaces();
    await n.startDockerd();
  }

  private async loadImage(n: ClusterNode): Promise<void> {
    const r = await n.dockerdCli(["load", "-q", "-i", this.l.imageTar]);
    if (r.code !== 0) throw new Error(`docker load on node ${n.index}: ${r.stderr}`);
  }

  /**
   * Adds node N+1 to the running harness (network, namespaces, containerd, dockerd, the image if
   * the cluster preloads it; shoal if `shoal`), e.g. to join a fresh machine later.
   */
  async addNode(opts: { shoal?: boolean | readonly string[] } = {}): Promise<ClusterNode> {
    if (this.disposed) throw new Error("cluster is disposed");
    const n = this.makeNode(this.nodeList.length + 1);
    this.nodeList.push(n);
    await this.bringUp(n);
    if (this.opts.preload !== false && existsSync(this.l.imageTar)) await this.loadImage(n);
    if (opts.shoal) await n.startShoal(Array.isArray(opts.shoal) ? (opts.shoal as readonly string[]) : []);
    return n;
  }

  private async saveImage(image: string): Promise<void> {
    await startDockerd();
    if (image === TEST_IMAGE) await ensureTestImage();
    await must([BINARIES.docker, "-H", "unix:///var/run/docker.sock", "save", "-o", this.l.imageTar, image]);
  }

  private async pushImage(image: string): Promise<Registry> {
    const n = this.node(1);
    const last = image.slice(image.lastIndexOf("/") + 1);
    const repo = last.includes(":") ? last.slice(0, last.indexOf(":")) : last;
    const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : "latest";
    const target = `${this.l.registryAddr}/${repo}:${tag}`;
    const tagged = await n.dockerdCli(["tag", image, target]);
    if (tagged.code !== 0) throw new Error(`docker tag ${image} ${target}: ${tagged.stderr}`);
    const pushed = await n.dockerdCli(["push", target]);
    const m = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout);
    if (pushed.code !== 0 || !m?.[1])
      throw new Error(`docker push ${target}: ${pushed.stderr}${pushed.stdout}`);
    return {
      addr: this.l.registryAddr,
      image: target,
      digest: m[1],
      ref: `${this.l.registryAddr}/${repo}@${m[1]}`,
      pid: this.registryProc?.pid ?? 0,
    };
  }

  /**
   * Builds a new image on node 1 from the harness image plus `lines` (Dockerfile instructions, e.g.
   * `LABEL v=2`, `CMD ["httpd","-f"]`), pushes it to the registry as `<registry>/<name>` and returns
   * its tag and digest: distinct images for update/rollback tests, pullable by every node.
   */
  async publishImage(name: string, lines: readonly string[] = []): Promise<Omit<Registry, "pid" | "addr">> {
    const reg = this.registry;
    if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_.-]+)?$/.test(name)) throw new Error(`bad image name ${name}`);
    const target = `${reg.addr}/${name.includes(":") ? name : `${name}:latest`}`;
    const n = this.node(1);
    const dockerfile = [`FROM ${reg.image}`, ...lines, ""].join("\n");
    const built = await n.dockerdCli(["build", "-q", "-t", target, "-"], { input: dockerfile });
    if (built.code !== 0) throw new Error(`docker build ${target}: ${built.stderr}${built.stdout}`);
    const pushed = await n.dockerdCli(["push", target]);
    const m = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout);
    if (pushed.code !== 0 || !m?.[1])
      throw new Error(`docker push ${target}: ${pushed.stderr}${pushed.stdout}`);
    const repo = target.slice(0, target.lastIndexOf(":"));
    return { image: target, digest: m[1], ref: `${repo}@${m[1]}` };
  }

  /** Node `i`, 1-based. */
  node(i: number): ClusterNode {
    const n = this.nodes[i - 1];
    if (!n) throw new Error(`no node ${i} (cluster has ${this.nodes.length})`);
    return n;
  }

  /** The registry with the harness image pushed (create() with `registry: false` has none). */
  get registry(): Registry {
    if (!this.registryInfo) throw new Error("this cluster was created without a registry");
    return this.registryInfo;
  }

  /**
   * Cuts node `i` off the harness network (nftables drop rules in its netns: in, out and forwarded
   * traffic through its eth0). With `from`, only traffic between node i and those nodes is dropped;
   * with `direction: "in"` / `"out"` only what node i receives / sends (an asymmetric partition).
   */
  async partition(
    i: number,
    opts: { from?: readonly number[]; direction?: PartitionDirection } = {},
  ): Promise<void> {
    await this.node(i).partition(
      opts.from?.map((j) => this.node(j).addr),
      opts.direction,
    );
  }

  /** Removes the partition rules of node `i`, or of every node. */
  async heal(i?: number): Promise<void> {
    await Promise.all((i === undefined ? this.nodes : [this.node(i)]).map((n) => n.heal()));
  }

  /**
   * Forms a swarm: `swarm init` on node 1, `swarm join` of nodes 2..managers as managers (one at a
   * time) and of the rest as workers (in parallel), then waits until node 1 lists every node Ready.
   * `via: "shoal"` (default) drives the nodes' shoal daemons (started if needed); `via: "dockerd"`
   * builds a real Docker Swarm from the nodes' dockerds (a reference to compare shoal with).
   */
  async formSwarm(
    opts: { managers?: number; via?: "shoal" | "dockerd"; timeoutMs?: number } = {},
  ): Promise<SwarmResult> {
    const managers = opts.managers ?? 1;
    const via = opts.via ?? "shoal";
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const cli = (n: ClusterNode, args: string[]): Promise<CliResult> =>
      via === "shoal" ? n.docker(args) : n.dockerdCli(args);
    const ok = async (n: ClusterNode, args: string[]): Promise<string> => {
      const r = await cli(n, args);
      if (r.code !== 0) throw new Error(`node ${n.index}: docker ${args.join(" ")}: ${r.stderr.trim()}`);
      return r.stdout.trim();
    };
    if (via === "shoal") await Promise.all(this.nodes.filter((n) => !n.shoalPid).map((n) => n.startShoal()));
    const first = this.node(1);
    await ok(first, ["swarm", "init", "--advertise-addr", first.addr]);
    const managerToken = await ok(first, ["swarm", "join-token", "-q", "manager"]);
    const workerToken = await ok(first, ["swarm", "join-token", "-q", "worker"]);
    const join = (n: ClusterNode, token: string): Promise<string> =>
      ok(n, ["swarm", "join", "--token", token, "--advertise-addr", n.addr, `${first.addr}:2377`]);
    for (const n of this.nodes.slice(1, managers)) await join(n, managerToken);
    await Promise.all(this.nodes.slice(managers).map((n) => join(n, workerToken)));
    await waitFor(
      `${this.nodes.length} Ready nodes in \`docker node ls\` on node 1`,
      async () => {
        const r = await cli(first, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
        const ready = r.stdout.split("\n").filter((s) => s.endsWith(" Ready")).length;
        if (ready === this.nodes.length) return true;
        throw new Error(`${ready} Ready: ${r.stdout.trim()} ${r.stderr.trim()}`);
      },
      timeoutMs,
      250,
    );
    const nodeIds = await Promise.all(
      this.nodes.map((n) => ok(n, ["info", "--format", "{{.Swarm.NodeID}}"])),
    );
    return { managerToken, workerToken, nodeIds };
  }

  /** Every live process of the harness (nodes, registry) with its proportional memory use. */
  memory(): { totalKiB: number; processes: ProcessMemory[] } {
    const pids = new Set<number>();
    for (const n of this.nodes) for (const p of n.pids()) pids.add(p);
    if (this.registryProc) pids.add(this.registryProc.pid);
    const processes = [...pids].map((pid) => ({
      pid,
      command: procCmdline(pid)[0]?.replace(/^.*\//, "") ?? "?",
      pssKiB: pssKiB(pid),
    }));
    return { totalKiB: processes.reduce((a, p) => a + p.pssKiB, 0), processes };
  }

  /** The last lines of every daemon log, for a failure message. */
  logTails(lines = 20): string {
    const parts: string[] = [];
    for (const n of this.nodes)
      for (const [what, file] of Object.entries(n.logs))
        if (existsSync(file)) parts.push(`--- node ${n.index} ${what} (${file}):\n${tail(file, lines)}`);
    const reg = join(this.l.logDir, "registry.log");
    if (existsSync(reg)) parts.push(`--- registry:\n${tail(reg, lines)}`);
    return parts.join("\n");
  }

  /** Anything of this harness still on the machine (empty after dispose). */
  leftovers(): string[] {
    return leftovers(this.idx);
  }

  private keepLogsDir(): string | undefined {
    const v = this.opts.keepLogs ?? process.env.SHOAL_CLUSTER_KEEP_LOGS;
    if (v === undefined || v === false || v === "" || v === "0") return undefined;
    if (typeof v === "string" && v !== "1" && v !== "true") return join(v, `${this.name}-${this.idx}`);
    return `/tmp/shoal-cluster-logs/${this.name}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  }

  /** Synchronous teardown; returns what could not be removed. Used by dispose() and the exit hooks. */
  disposeSync(): string[] {
    const problems = teardownSync(this.idx, { keepLogsIn: this.disposed ? undefined : this.keepLogsDir() });
    this.disposed = true;
    if (problems.length === 0) live.delete(this);
    return problems;
  }

  /**
   * Kills every process the harness started (SIGKILL, whole cgroups), unmounts, and removes the
   * netns, bridge, veths, iptables rules, cgroups and the state dir. Idempotent. Throws if anything
   * is left (with the list), so a leak fails the test.
   */
  async dispose(): Promise<void> {
    // give shoal daemons a moment (at most 2 s) to stop cleanly; everything else is killed hard
    await Promise.all(this.nodes.map((n) => n.stopShoal(2_000)));
    const problems = this.disposeSync();
    if (problems.length > 0)
      throw new Error(
        `cluster "${this.name}" (instance ${this.idx}) left behind:\n  ${problems.join("\n  ")}`,
      );
  }
}
