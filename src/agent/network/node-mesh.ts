/**
 * Applies the node's mesh plan (mesh.ts) to the node's own netns: the ingress bridge's address and
 * MAC, the nft table (replaced atomically when it changes) and the filter rules (DOCKER-USER and
 * FORWARD, mesh.ts says why both); removes them
 * when the node leaves the mesh. The table and rules carry the daemon's pid, so the first sync also
 * removes those a dead daemon left behind (a killed daemon's DNATs would otherwise shadow ours),
 * while other live daemons sharing the netns (tests) keep theirs.
 */
import type { Logger } from "../../base/index.ts";
import {
  bridgeCommands,
  dockerUserRules,
  forwardInsertAt,
  MESH_FILTER_CHAINS,
  type MeshPlan,
  meshRuleset,
  meshTable,
  meshTeardownScript,
  staleRules,
  staleTables,
} from "./mesh.ts";

export interface NodeMeshOptions {
  /** The daemon's pid: names the table and tags the rules. */
  pid: number;
  /** Runs `ip`, `sysctl`, `iptables`, `nft list` in the node's netns (shell.ts). */
  run: (cmd: readonly string[]) => Promise<string>;
  /** `nft -f -` in the node's netns. */
  loadRuleset: (script: string) => Promise<void>;
  /** Whether a process is still running (for tables and rules of earlier daemons). */
  alive: (pid: number) => boolean;
  logger: Logger;
}

const IPTABLES = ["iptables", "-w", "5"];

export class NodeMesh {
  private readonly table: string;
  /** The script last loaded ("" when no table is loaded). */
  private script = "";
  /** Where the node's address and the filter rules were put. */
  private applied: { bridge: string; address: string } | undefined;
  private swept = false;

  constructor(private readonly opts: NodeMeshOptions) {
    this.table = meshTable(opts.pid);
  }

  /** Brings the node in line with `plan` (undefined: not in the mesh). */
  async sync(plan: MeshPlan | undefined): Promise<void> {
    if (!plan) {
      if (this.script || this.applied || !this.swept) await this.teardown();
    } else {
      const script = meshRuleset(this.table, plan);
      if (script !== this.script || this.applied?.bridge !== plan.network.bridge) {
        await this.place(plan);
        await this.opts.loadRuleset(script);
        this.script = script;
        this.opts.logger.debug(
          {
            table: this.table,
            ports: plan.rules.map((r) => `${r.port}/${r.protocol}:${r.backends.join(",")}`),
          },
          "mesh table loaded",
        );
      }
    }
    if (!this.swept) {
      this.swept = true;
      await this.sweep();
    }
  }

  /** The address, MAC and forwarding rules on the bridge (again: a bridge may have been re-created). */
  private async place(plan: MeshPlan): Promise<void> {
    const { bridge } = plan.network;
    if (this.applied && (this.applied.bridge !== bridge || this.applied.address !== plan.address)) {
      await this.unplace();
    }
    for (const cmd of bridgeCommands(plan)) await this.opts.run(cmd);
    this.applied = { bridge, address: plan.address };
    for (const chain of MESH_FILTER_CHAINS) {
      for (const rule of dockerUserRules(bridge, this.opts.pid)) {
        const present = await this.opts.run([...IPTABLES, "-C", chain, ...rule]).then(
          () => true,
          () => false,
        );
        if (present) continue;
        const at =
          chain === "FORWARD"
            ? [String(forwardInsertAt(await this.opts.run([...IPTABLES, "-S", "FORWARD"]).catch(() => "")))]
            : [];
        // no DOCKER-USER chain (dockerd with --iptables=false): dockerd filters nothing either
        await this.opts
          .run([...IPTABLES, "-I", chain, ...at, ...rule])
          .catch((err: unknown) =>
            this.opts.logger.warn({ err, chain }, "adding the mesh's filter rule failed"),
          );
      }
    }
  }

  private async unplace(): Promise<void> {
    const was = this.applied;
    this.applied = undefined;
    if (!was) return;
    const quiet = (cmd: readonly string[]) =>
      this.opts.run(cmd).catch((err: unknown) => this.opts.logger.debug({ err }, "mesh cleanup step failed"));
    for (const chain of MESH_FILTER_CHAINS) {
      for (const rule of dockerUserRules(was.bridge, this.opts.pid)) {
        await quiet([...IPTABLES, "-D", chain, ...rule]);
      }
    }
    await quiet(["ip", "addr", "del", `${was.address}/32`, "dev", was.bridge]);
  }

  /** Leaves the mesh: table, rules and address go (the bridge goes with the network). */
  async teardown(): Promise<void> {
    await this.opts.loadRuleset(meshTeardownScript(this.table));
    this.script = "";
    await this.unplace();
    this.opts.logger.debug({ table: this.table }, "mesh table removed");
  }

  private async sweep(): Promise<void> {
    const alive = (pid: number) => pid === this.opts.pid || this.opts.alive(pid);
    const tables = await this.opts.run(["nft", "list", "tables"]).catch(() => "");
    for (const t of staleTables(tables, alive)) {
      this.opts.logger.info({ table: t }, "removing a dead daemon's mesh table");
      await this.opts
        .loadRuleset(meshTeardownScript(t))
        .catch((err: unknown) =>
          this.opts.logger.warn({ err, table: t }, "removing a stale mesh table failed"),
        );
    }
    for (const chain of MESH_FILTER_CHAINS) {
      const rules = await this.opts.run([...IPTABLES, "-S", chain]).catch(() => "");
      for (const rule of staleRules(rules, alive, chain)) {
        await this.opts
          .run([...IPTABLES, "-D", chain, ...rule])
          .catch((err: unknown) =>
            this.opts.logger.warn({ err, chain }, "removing a stale mesh filter rule failed"),
          );
      }
    }
  }
}
