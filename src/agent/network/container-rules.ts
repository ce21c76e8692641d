/**
 * The rules inside each running task container's netns: the VIP table (DNAT of every VIP on the
 * container's networks to its backends) and, for a container on ingress while the mesh keeps
 * client addresses, the marks and policy routes that send replies back through the node a
 * connection came in by (mesh-source.ts). Each is reloaded only when it changed for that netns; a
 * restarted container (new pid, new netns) gets everything again.
 */
import type { NetworkedTask, NetworkPeers, Task } from "../../api/index.ts";
import type { Logger } from "../../base/index.ts";
import {
  parseSourceRules,
  routeBatch,
  SOURCE_RULE_PREF,
  type SourceRoute,
  sourceChains,
  sourceRoutes,
} from "./mesh-source.ts";
import { discoveryNetworks, localNetworkOf, type VipBackends, vipBackends, vipRuleset } from "./plan.ts";
import type { RulesetLoader } from "./types.ts";
import { deleteFlows, staleVipFlows } from "./udp-flows.ts";

/** Runs a command in the netns of a process, with `input` on stdin; resolves its stdout. */
export type NetnsRunner = (pid: number, cmd: readonly string[], input?: string) => Promise<string>;

export interface ContainerRulesOptions {
  loadRuleset: RulesetLoader;
  /** Policy routing in containers; without it the mesh SNATs everything (Swarm's behaviour). */
  netnsRun?: NetnsRunner;
  logger: Logger;
}

/** A running container: its netns is the one of `pid`. */
export interface ContainerRef {
  id: string;
  pid: number;
}

const sameRoutes = (a: readonly SourceRoute[] | undefined, b: readonly SourceRoute[]): boolean =>
  !!a && a.length === b.length && a.every((r, i) => r.mark === b[i]?.mark && r.via === b[i]?.via);

export class ContainerRules {
  /** What was last loaded, by `<container id>/<pid>`. */
  private readonly loaded = new Map<string, string>();
  private readonly routed = new Map<string, SourceRoute[]>();
  /** The VIP backends of what was last loaded, by the same key. */
  private readonly vips = new Map<string, VipBackends[]>();

  constructor(private readonly opts: ContainerRulesOptions) {}

  /** Whether replies are routed back to the ingress node (so the mesh need not SNAT). */
  get keepsSource(): boolean {
    return this.opts.netnsRun !== undefined;
  }

  /** Brings one container's netns in line with the peer view; failures are logged. */
  async apply(task: Task, c: ContainerRef, peers: NetworkPeers | undefined): Promise<void> {
    const atts = ((task as NetworkedTask).NetworksAttachments ?? []).filter((a) => localNetworkOf(a.Network));
    const onIngress = atts.some((a) => a.Network.Spec?.Ingress && a.Network.ID === peers?.mesh?.Network.ID);
    const routes = onIngress && this.keepsSource ? sourceRoutes(peers) : [];
    const key = `${c.id}/${c.pid}`;
    const vips = vipBackends(peers, discoveryNetworks(task));
    const script = vipRuleset(vips, sourceChains(routes));
    try {
      if (this.loaded.get(key) !== script) {
        await this.opts.loadRuleset(c.pid, script);
        this.loaded.set(key, script);
        await this.forgetFlows(key, c.pid, vips);
      }
      // a container that never had routes needs no look: the common case, no mesh at all
      if (routes.length === 0 && !this.routed.has(key)) this.routed.set(key, []);
      if (!sameRoutes(this.routed.get(key), routes)) {
        await this.route(c.pid, !this.routed.has(key), routes);
        this.routed.set(key, routes);
      }
    } catch (err) {
      this.opts.logger.warn({ err, "task.id": task.ID }, "loading a container's VIP or mesh rules failed");
    }
  }

  /** The container's UDP flows to VIP backends that left (udp-flows.ts says why). */
  private async forgetFlows(key: string, pid: number, vips: VipBackends[]): Promise<void> {
    const run = this.opts.netnsRun;
    const stale = staleVipFlows(this.vips.get(key) ?? [], vips);
    this.vips.set(key, vips);
    if (run && stale.length > 0) await deleteFlows(stale, (cmd) => run(pid, cmd), this.opts.logger);
  }

  private async route(pid: number, first: boolean, routes: readonly SourceRoute[]): Promise<void> {
    const run = this.opts.netnsRun;
    if (!run) return;
    // A strict rp_filter would check the client against the main table; with src_valid_mark it
    // uses the connection's mark, i.e. the route back through the ingress node.
    if (first && routes.length > 0) await run(pid, ["sysctl", "-qw", "net.ipv4.conf.all.src_valid_mark=1"]);
    const existing = parseSourceRules(
      await run(pid, ["ip", "rule", "show", "pref", String(SOURCE_RULE_PREF)]),
    );
    const batch = routeBatch(existing, routes);
    if (batch) await run(pid, ["ip", "-batch", "-"], batch);
  }

  /** Forgets containers that are gone (keys are cheap; keep the maps from growing forever). */
  prune(live: number): void {
    if (this.loaded.size > 4 * (live + 1)) this.loaded.clear();
    if (this.routed.size > 4 * (live + 1)) this.routed.clear();
    if (this.vips.size > 4 * (live + 1)) this.vips.clear();
  }
}
