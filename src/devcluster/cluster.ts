/**
 * A multi-node cluster on one machine (DESIGN §7): each node a set of namespaces with its own
 * containerd, dockerd and shoal daemon, on a bridge in the root namespace, with a local registry.
 * The cluster tests use it (test/cluster/harness.ts, see its README) and so does `shoal up`, which
 * makes a *persistent* one: it outlives the process that created it until `shoal down`.
 *
 *   const cluster = await DevCluster.create({ nodes: 3, name: "t1", shoal: true });
 *   await cluster.formSwarm({ managers: 1 });
 *   await cluster.partition(2); await cluster.heal(2);
 *   await cluster.dispose();
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ShoalError } from "../base/index.ts";
import { BINARIES, type Daemon, tail } from "./daemon.ts";
import { buildAndPush, loadImageTar, pushImage, saveHostImages, TEST_IMAGE } from "./images.ts";
import { type Layout, layout, MAX_NODES, nodeLayout } from "./layout.ts";
import { claimInstance, type PartitionDirection, setupBridge, setupNodeNetwork } from "./network.ts";
import { ClusterNode } from "./node.ts";
import { type Registry, startRegistry } from "./registry.ts";
import { formSwarm, type SwarmOptions, type SwarmResult } from "./swarm.ts";
import { cgroupPids, must, procCmdline, pssKiB } from "./sys.ts";
import { leftovers, type Manifest, readManifest, teardownSync, writeManifest } from "./teardown.ts";

export interface DevClusterOptions {
  /** Number of nodes (1..200). */
  nodes: number;
  /** A label for logs and hostnames: node i is `<name>-node<i>` (default "shoal"). */
  name?: string;
  /** Start a registry with the image pushed to it (default true). */
  registry?: boolean;
  /** `docker load` the images into every node's dockerd (default true). */
  preload?: boolean;
  /** The image taken from the machine's own dockerd (default busybox:local, built if missing). */
  image?: string;
  /** More images from the machine's dockerd, loaded into every node (not pushed to the registry). */
  images?: readonly string[];
  /** Start a shoal daemon on every node (default false); an array gives its extra arguments. */
  shoal?: boolean | readonly string[];
  /** Extra flags for every node's dockerd. */
  dockerdArgs?: readonly string[];
  /**
   * Copy the daemons' logs to a directory on dispose: a path, or true (or "1") for
   * /tmp/shoal-cluster-logs/<name>-<time>.
   */
  keepLogs?: boolean | string;
  /**
   * Keep the cluster when this process exits (`shoal up`); default false: a test's cluster is torn
   * down on exit, SIGINT, SIGTERM and SIGHUP.
   */
  persistent?: boolean;
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

export interface ProcessMemory {
  pid: number;
  command: string;
  pssKiB: number;
}

/** Thrown by create() when the cluster cannot be started; everything it made is already removed. */
export class ClusterStartError extends ShoalError {
  constructor(
    message: string,
    readonly idx: number,
  ) {
    super("Unavailable", message);
    this.name = "ClusterStartError";
  }
}

const live = new Set<DevCluster>();
let hooksInstalled = false;

/** Tears down every live test cluster when the process exits or is interrupted (best effort, synchronous). */
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

/** Root, the binaries and a pids cgroup hierarchy; throws with the list of what is missing. */
export function preflight(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root");
  for (const [name, path] of Object.entries(BINARIES))
    if (!existsSync(path)) missing.push(`${name} (${path})`);
  if (!existsSync("/sys/fs/cgroup/pids") && !existsSync("/sys/fs/cgroup/cgroup.controllers"))
    missing.push("a pids cgroup hierarchy");
  if (missing.length > 0)
    throw new ShoalError(
      "FailedPrecondition",
      `a local cluster cannot run here; missing: ${missing.join(", ")} (see scripts/setup.sh)`,
    );
}

const seconds = (t0: number): number => Math.round((performance.now() - t0) / 10) / 100;

/** An Engine API request's debug line (shoal's log). */
const ENGINE_API_REQUEST = /^\{"level":20,[^{]*"module":"engineapi","method":/;

export class DevCluster {
  private readonly nodeList: ClusterNode[] = [];
  readonly name: string;
  /** The instance number: the cluster network is 172.16.<idx>.0/24. */
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
    private readonly opts: DevClusterOptions,
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

  /** Whether the cluster outlives this process (made by `shoal up`). */
  get persistent(): boolean {
    return this.opts.persistent === true;
  }

  /**
   * Builds the cluster: network, every node's containerd + dockerd (in parallel), the images in
   * every node and the first one in the registry, and shoal daemons if asked. On failure removes
   * everything and throws a ClusterStartError with the daemons' log tails.
   */
  static async create(opts: DevClusterOptions): Promise<DevCluster> {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES)
      throw new ShoalError("InvalidArgument", `nodes must be 1..${MAX_NODES}`);
    if (opts.name !== undefined && !/^[a-z0-9][a-z0-9-]{0,40}$/.test(opts.name))
      throw new ShoalError(
        "InvalidArgument",
        `name ${JSON.stringify(opts.name)}: use [a-z0-9-], at most 41 characters`,
      );
    preflight();
    const l = claimInstance(opts.name ?? "shoal", opts.nodes, opts.persistent === true);
    const h = new DevCluster(l, opts);
    if (!h.persistent) {
      live.add(h);
      installExitHooks();
    }
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

  /**
   * The persistent cluster of instance `idx`, made by an earlier process (`shoal up`), to inspect,
   * use or tear down. Its daemons were started by that process: start/stop/kill of them is not
   * available here, everything else is.
   */
  static open(idx: number): DevCluster {
    const l = layout(idx);
    const m = readManifest(l);
    if (!m)
      throw new ShoalError("NotFound", `no local cluster with instance ${idx} (${l.manifest} is missing)`);
    const h = new DevCluster(l, { nodes: m.nodes, name: m.name, persistent: m.persistent === true });
    if (m.registry) h.registryInfo = { ...m.registry, pid: cgroupPids(l.registryCgroup)[0] ?? 0 };
    return h;
  }

  /** The manifest of this instance (who made it, when, its registry). */
  manifest(): Manifest | undefined {
    return readManifest(this.l);
  }

  private allImages(): string[] {
    return [...new Set([this.opts.image ?? TEST_IMAGE, ...(this.opts.images ?? [])])];
  }

  private async up(): Promise<void> {
    const t0 = performance.now();
    const at = (): number => seconds(t0);
    const wantImage = this.opts.preload !== false || this.opts.registry !== false;
    const imageSaved = wantImage ? saveHostImages(this.allImages(), this.l.imageTar) : Promise.resolve();
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
          await loadImageTar(n, this.l.imageTar);
          done("image");
        }
        if (n.index === 1 && registryStarted) {
          this.registryProc = await registryStarted;
          const pushed = await pushImage(n, this.l.registryAddr, this.opts.image ?? TEST_IMAGE);
          this.registryInfo = { ...pushed, pid: this.registryProc.pid };
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
    this.updateManifest({ ...(this.registryInfo ? { registry: this.registryWithoutPid() } : {}) });
    // a persistent cluster never adds nodes later: the images' copy is not worth its disk space
    if (this.persistent) rmSync(this.l.imageTar, { force: true });
  }

  private registryWithoutPid(): Manifest["registry"] {
    const r = this.registry;
    return { addr: r.addr, image: r.image, digest: r.digest, ref: r.ref };
  }

  private updateManifest(change: Partial<Manifest>): void {
    const m = readManifest(this.l);
    if (m) writeManifest(this.l, { ...m, ...change });
  }

  private async bringUp(n: ClusterNode): Promise<void> {
    await setupNodeNetwork(this.l, n.paths);
    await n.setupNamespaces();
    await n.startDockerd();
  }

  /**
   * Adds node N+1 to the running cluster (network, namespaces, containerd, dockerd, the images if
   * the cluster preloads them; shoal if `shoal`), e.g. to join a fresh machine later.
   */
  async addNode(opts: { shoal?: boolean | readonly string[] } = {}): Promise<ClusterNode> {
    if (this.disposed) throw new Error("cluster is disposed");
    const n = this.makeNode(this.nodeList.length + 1);
    this.nodeList.push(n);
    this.updateManifest({ nodes: this.nodeList.length });
    await this.bringUp(n);
    if (this.opts.preload !== false && existsSync(this.l.imageTar)) await loadImageTar(n, this.l.imageTar);
    if (opts.shoal) await n.startShoal(Array.isArray(opts.shoal) ? (opts.shoal as readonly string[]) : []);
    return n;
  }

  /** Copies `images` from the machine's dockerd into every node's dockerd (`kind load docker-image`). */
  async loadImages(images: readonly string[]): Promise<void> {
    if (images.length === 0) return;
    const tar = join(this.l.dir, "load.tar");
    try {
      await saveHostImages(images, tar);
      await Promise.all(this.nodes.map((n) => loadImageTar(n, tar)));
    } finally {
      rmSync(tar, { force: true });
    }
  }

  /**
   * Builds a new image on node 1 from the registry image plus `lines` (Dockerfile instructions, e.g.
   * `LABEL v=2`, `CMD ["httpd","-f"]`), pushes it to the registry as `<registry>/<name>` and returns
   * its tag and digest: distinct images for update/rollback tests, pullable by every node.
   */
  publishImage(name: string, lines: readonly string[] = []): Promise<Omit<Registry, "pid" | "addr">> {
    return buildAndPush(this.node(1), this.registry, name, lines);
  }

  /** Node `i`, 1-based. */
  node(i: number): ClusterNode {
    const n = this.nodes[i - 1];
    if (!n) throw new Error(`no node ${i} (cluster has ${this.nodes.length})`);
    return n;
  }

  /** The registry with the cluster image pushed (create() with `registry: false` has none). */
  get registry(): Registry {
    if (!this.registryInfo) throw new Error("this cluster was created without a registry");
    return this.registryInfo;
  }

  /** Whether the cluster has a registry. */
  get hasRegistry(): boolean {
    return this.registryInfo !== undefined;
  }

  /**
   * Cuts node `i` off the cluster network (nftables drop rules in its netns: in, out and forwarded
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

  /** See formSwarm (swarm.ts): init on node 1, managers joined one by one, workers in parallel. */
  formSwarm(opts: SwarmOptions = {}): Promise<SwarmResult> {
    return formSwarm(this.nodes, opts);
  }

  /** Every live process of the cluster (nodes, registry) with its proportional memory use. */
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

  /**
   * The last lines of every daemon log, for a failure message. The Engine API's per-request debug
   * lines are left out: a test polling the CLI fills a whole tail with them.
   */
  logTails(lines = 20): string {
    const parts: string[] = [];
    for (const n of this.nodes)
      for (const [what, file] of Object.entries(n.logs))
        if (existsSync(file))
          parts.push(`--- node ${n.index} ${what} (${file}):\n${tail(file, lines, ENGINE_API_REQUEST)}`);
    const reg = join(this.l.logDir, "registry.log");
    if (existsSync(reg)) parts.push(`--- registry:\n${tail(reg, lines)}`);
    return parts.join("\n");
  }

  /** Anything of this cluster still on the machine (empty after dispose). */
  leftovers(): string[] {
    return leftovers(this.idx);
  }

  private keepLogsDir(): string | undefined {
    const v = this.opts.keepLogs;
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
   * Kills every process the cluster started (SIGKILL, whole cgroups), unmounts, and removes the
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
