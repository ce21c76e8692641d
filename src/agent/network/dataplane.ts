/**
 * The node's data plane: keeps one local bridge network per swarm network its tasks use (created
 * before the executor sees the tasks, removed once no local task needs it), a DNS server on each
 * bridge's gateway, the VIP rules in every running task container's netns in line with the
 * dispatcher's peer view, and the routing mesh in the node's own netns (ingress bridge, published
 * ports). Planning is pure (plan.ts, mesh.ts, dns-answer.ts); dockerd, ip and nft are ports.
 */
import type { NetworkedTask, NetworkPeers, SwarmTask, Task } from "../../api/index.ts";
import type { Logger } from "../../base/index.ts";
import { taskName } from "../executor/container-config.ts";
import type { NetworkEndpoint } from "../executor/spec.ts";
import type { ContainerEngine } from "../executor/types.ts";
import { ContainerRules, type NetnsRunner } from "./container-rules.ts";
import type { DnsServer } from "./dns-server.ts";
import { type MeshPlan, meshPlan, meshRemoteNodes } from "./mesh.ts";
import type { NodeMesh } from "./node-mesh.ts";
import {
  entryCommands,
  type RemoteEndpoint,
  remoteEndpoints,
  selfAddress,
  vxlanCommands,
  vxlanDevice,
} from "./overlay.ts";
import {
  discoveryNetworks,
  type LocalNetwork,
  localNetworkOf,
  needsNetworks,
  taskEndpoints,
  wantedNetworks,
} from "./plan.ts";
import type { LocalNetworkDriver, RulesetLoader } from "./types.ts";
import { MeshUdpFlows } from "./udp-flows.ts";

export interface DataPlaneOptions {
  driver: LocalNetworkDriver;
  loadRuleset: RulesetLoader;
  logger: Logger;
  /** Service discovery; without it containers get no `--dns`. */
  dns?: DnsServer;
  /** This node's ID (which peers are remote). */
  nodeId?: string;
  /** Runs `ip`/`bridge` commands for VXLAN (shell.ts); without it networks stay node-local. */
  run?: (cmd: readonly string[]) => Promise<string>;
  linkExists?: (name: string) => Promise<boolean>;
  /** The routing mesh in the node's netns; without it the node answers no published port. */
  mesh?: NodeMesh;
  /**
   * Commands in task containers' netns (policy routes): with it the mesh keeps client addresses
   * (mesh-source.ts), without it it SNATs them all, as Swarm does.
   */
  netnsRun?: NetnsRunner;
}

const CLEANUP_RETRY_MS = 2000;
const serviceNameOf = (t: Task): string => (t as SwarmTask).ServiceAnnotations?.Name || t.ServiceID || "";
const ip = (cidr: string): string => cidr.split("/")[0] ?? "";

export class DataPlane {
  private peerView: NetworkPeers | undefined;
  /** The node's part in the routing mesh under the current view (undefined: none). */
  private meshNow: MeshPlan | undefined;
  private readonly tasks = new Map<string, Task>();
  private readonly networks = new Map<string, LocalNetwork>();
  private readonly rules: ContainerRules;
  /** The mesh's UDP flows to forget when backends leave (needs `run`). */
  private readonly udpFlows: MeshUdpFlows | undefined;
  private engine: ContainerEngine | undefined;
  /** Remote endpoints installed on each network's VXLAN device, by swarm network ID. */
  private readonly remotes = new Map<string, RemoteEndpoint[]>();
  /** The peer view the rules were last refreshed for (null: never). */
  private rulesFor: NetworkPeers | undefined | null = null;
  /** The wanted set last cleaned up for, and whether a removal is still due. */
  private cleanedFor = "";
  private cleanupDue = true;
  private queue: Promise<void> = Promise.resolve();
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly opts: DataPlaneOptions) {
    this.rules = new ContainerRules({
      loadRuleset: opts.loadRuleset,
      logger: opts.logger,
      ...(opts.netnsRun ? { netnsRun: opts.netnsRun } : {}),
    });
    this.udpFlows = opts.run && new MeshUdpFlows(opts.run, opts.logger);
  }

  /** The engine used to find task containers' PIDs (the executor's). */
  bind(engine: ContainerEngine): void {
    this.engine = engine;
  }

  peers(): NetworkPeers | undefined {
    return this.peerView;
  }

  /**
   * Converges to the node's tasks and the peer view: creates missing bridges (before any of these
   * tasks' containers is created), refreshes the VIP rules, removes bridges no task needs.
   */
  update(tasks: readonly Task[], peers: NetworkPeers | undefined): Promise<void> {
    return this.serial(() => this.converge(tasks, peers));
  }

  /** Runs `fn` after every earlier update or cleanup (they share the maps and dockerd's networks). */
  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A bridge whose last task's container was still being removed stays; try again shortly (the
   * executor removes containers after the update that dropped their tasks).
   */
  private retryCleanup(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.serial(async () => {
        if (!this.cleanupDue) return;
        this.cleanupDue = false;
        await this.removeUnused(wantedNetworks(this.tasks.values(), this.meshNow?.network));
        if (this.cleanupDue) this.retryCleanup();
      });
    }, CLEANUP_RETRY_MS);
    this.retry.unref();
  }

  private async converge(tasks: readonly Task[], peers: NetworkPeers | undefined): Promise<void> {
    if (peers) this.peerView = peers;
    this.tasks.clear();
    for (const t of tasks) this.tasks.set(t.ID, t);
    const { mesh, nodeId } = this.opts;
    this.meshNow = mesh && nodeId ? meshPlan(this.peerView, nodeId, this.rules.keepsSource) : undefined;
    const wanted = wantedNetworks(tasks, this.meshNow?.network);
    for (const n of wanted.values()) {
      // every time (an existing one is fine): a bridge removed behind shoal's back comes back
      try {
        await this.opts.driver.create(n);
        this.networks.set(n.id, n);
      } catch (err) {
        this.networks.delete(n.id);
        this.opts.logger.warn({ err, network: n.name }, "creating the local network failed");
        continue;
      }
      await this.opts.dns
        ?.listen(n.gateway)
        .catch((err: unknown) => this.opts.logger.warn({ err, address: n.gateway }, "dns listen failed"));
    }
    await this.syncMesh();
    await this.syncOverlays(wanted);
    // a new container gets its rules when it starts; the others only when the view changed
    if (this.rulesFor !== this.peerView) {
      this.rulesFor = this.peerView;
      await this.refreshRules();
    }
    const key = [...wanted.keys()].sort().join(",");
    if (this.cleanupDue || key !== this.cleanedFor) {
      this.cleanedFor = key;
      this.cleanupDue = false;
      await this.removeUnused(wanted);
      if (this.cleanupDue) this.retryCleanup();
    }
  }

  /**
   * The mesh right after its bridge exists, before containers join it (they keep the bridge's MAC
   * for the gateway). A failure is logged; the next update tries again.
   */
  private async syncMesh(): Promise<void> {
    const plan = this.meshNow && this.networks.has(this.meshNow.network.id) ? this.meshNow : undefined;
    if (!this.opts.mesh) return;
    try {
      await this.opts.mesh.sync(plan);
      await this.udpFlows?.moved(plan);
    } catch (err) {
      this.opts.logger.warn({ err }, "setting up the routing mesh failed");
    }
  }

  /** VXLAN device and static FDB/neighbour entries for every network with remote tasks. */
  private async syncOverlays(wanted: ReadonlyMap<string, LocalNetwork>): Promise<void> {
    const { run, linkExists, nodeId } = this.opts;
    if (!run || !linkExists || !nodeId) return;
    const local = selfAddress(this.peerView, nodeId);
    for (const n of wanted.values()) {
      if (!this.networks.has(n.id) || n.vni <= 0) continue;
      const after = remoteEndpoints(this.peerView, n.id, nodeId);
      // on ingress, every other node's own address too: the mesh's replies go there
      if (n.id === this.peerView?.mesh?.Network.ID) after.push(...meshRemoteNodes(this.peerView, nodeId));
      const before = this.remotes.get(n.id);
      if (!before && after.length === 0) continue;
      try {
        if (!before) {
          if (!local) continue;
          for (const cmd of vxlanCommands(n, local, await linkExists(vxlanDevice(n)))) await run(cmd);
        }
        const applied: RemoteEndpoint[] = [];
        for (const cmd of entryCommands(vxlanDevice(n), before ?? [], after)) {
          await run(cmd).catch((err: unknown) =>
            this.opts.logger.debug({ err }, "overlay entry command failed"),
          );
        }
        applied.push(...after);
        this.remotes.set(n.id, applied);
      } catch (err) {
        this.opts.logger.warn({ err, network: n.name }, "setting up the VXLAN device failed");
      }
    }
  }

  /** The task's networks for the executor (the first is attached at create). */
  endpointsFor(task: Task): NetworkEndpoint[] {
    // a network whose bridge could not be created (e.g. its subnet overlaps a local network) is
    // left out: the container then runs on dockerd's default bridge, as before the data plane
    const created = new Set([...this.networks.values()].map((n) => n.name));
    return taskEndpoints(task, serviceNameOf(task)).filter((e) => created.has(e.name));
  }

  /**
   * The `--dns` of a task's container: the gateway of its first network with service discovery
   * (else of ingress: other names are still relayed), when DNS is served.
   */
  nameserverFor(taskId: string): string | undefined {
    const task = this.tasks.get(taskId);
    if (!task || !this.opts.dns) return undefined;
    const discovery = discoveryNetworks(task);
    const joined = this.endpointsFor(task).flatMap((e) =>
      [...this.networks.values()].filter((n) => n.name === e.name),
    );
    return (joined.find((n) => discovery.has(n.id)) ?? joined[0])?.gateway;
  }

  /** The further networks a task's container joins after create. */
  extraEndpoints(taskId: string): NetworkEndpoint[] {
    const task = this.tasks.get(taskId);
    return task ? this.endpointsFor(task).slice(1) : [];
  }

  /**
   * The swarm networks with service discovery of the local container with address `clientIp`,
   * else the server's own (ingress has none, as in Swarm).
   */
  networksOf(clientIp: string, serverAddress: string): ReadonlySet<string> {
    for (const t of this.tasks.values()) {
      const atts = (t as NetworkedTask).NetworksAttachments ?? [];
      if (atts.some((a) => (a.Addresses ?? []).some((c) => ip(c) === clientIp))) return discoveryNetworks(t);
    }
    const ingress = this.peerView?.mesh?.Network.ID;
    const own = [...this.networks.values()].filter((n) => n.gateway === serverAddress && n.id !== ingress);
    return new Set(own.map((n) => n.id));
  }

  /** Loads the VIP rules into one task's container (after it starts). */
  async applyRules(taskId: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (task) await this.applyTaskRules(task);
  }

  /** Reloads every running task container's rules whose backends changed. */
  async refreshRules(): Promise<void> {
    for (const t of this.tasks.values()) {
      if (needsNetworks(t)) await this.applyTaskRules(t);
    }
  }

  private async applyTaskRules(task: Task): Promise<void> {
    const atts = ((task as NetworkedTask).NetworksAttachments ?? []).filter((a) => localNetworkOf(a.Network));
    if (atts.length === 0 || !this.engine) return;
    const name = taskName(task, serviceNameOf(task));
    const c = await this.engine.inspectContainer(name).catch(() => null);
    if (c?.state !== "running" || c.pid <= 0) return;
    await this.rules.apply(task, c, this.peerView);
  }

  /** `swarm leave`: removes every local network of this node (its containers are gone by then). */
  removeAll(): Promise<void> {
    return this.serial(async () => {
      this.tasks.clear();
      this.meshNow = undefined;
      await this.opts.mesh
        ?.teardown()
        .catch((err: unknown) => this.opts.logger.warn({ err }, "leaving the routing mesh failed"));
      await this.udpFlows?.moved(undefined);
      await this.removeUnused(new Map());
      this.opts.dns?.closeAll();
    });
  }

  /** Stops retrying cleanups (the daemon is stopping). */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
  }

  private async removeUnused(wanted: ReadonlyMap<string, LocalNetwork>): Promise<void> {
    const existing = await this.opts.driver.list().catch((err: unknown) => {
      this.opts.logger.warn({ err }, "listing local networks failed");
      this.cleanupDue = true;
      return [];
    });
    for (const e of existing) {
      if (wanted.has(e.networkId)) continue;
      const vni = this.networks.get(e.networkId)?.vni || e.vni || 0;
      if (this.opts.run && vni > 0 && (await this.opts.linkExists?.(`shv${vni}`))) {
        await this.opts.run(["ip", "link", "del", `shv${vni}`]).catch(() => undefined);
      }
      this.remotes.delete(e.networkId);
      try {
        await this.opts.driver.remove(e.name);
        const n = this.networks.get(e.networkId);
        this.networks.delete(e.networkId);
        if (n && ![...this.networks.values()].some((x) => x.gateway === n.gateway))
          this.opts.dns?.close(n.gateway);
      } catch (err) {
        // containers may still be attached; the next update tries again
        this.cleanupDue = true;
        this.opts.logger.debug({ err, network: e.name }, "removing the local network failed");
      }
    }
    this.rules.prune(this.tasks.size);
  }
}
