/**
 * One agent's session on this dispatcher: the assignment stream for its node, built from a store
 * view plus a watch taken together, so no task change falls between the full set and the increments.
 */
import type {
  AssignedPayload,
  AssignmentMessage,
  DispatcherSession,
  Service,
  SessionInfo,
  Task,
  TaskStatusReport,
} from "../../api/index.ts";
import type { ReadTx, Store, StoreEvent } from "../../store/types.ts";
import { completeAssignment, incrementalAssignment } from "./assignments.ts";
import {
  type DependencyIds,
  diffDependencies,
  fetchPayloads,
  isEmptyDiff,
  neededDependencies,
  type PayloadSource,
} from "./dependencies.ts";
import { meshView } from "./mesh.ts";
import { networkPeers, nodeNetworks, touchesNetworks } from "./peers.ts";

/** What a session last sent of the data plane's view. */
interface PeersSent {
  /** The view as JSON ("" before the first). */
  sent: string;
  /** The ingress network while the node is in the routing mesh: its tasks matter to the node. */
  mesh?: string;
}

export interface SessionHooks {
  heartbeat(nodeId: string, sessionId: string): number;
  report(nodeId: string, reports: TaskStatusReport[]): Promise<void>;
  closed(nodeId: string, sessionId: string): void;
}

export class AgentSession implements DispatcherSession {
  private readonly abort = new AbortController();

  constructor(
    readonly info: SessionInfo,
    private readonly nodeId: string,
    private readonly store: Store,
    private readonly hooks: SessionHooks,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  async *assignments(): AsyncIterable<AssignmentMessage> {
    const { result, events } = this.store.viewAndWatch((tx) => tx.lookup("tasks", "node", this.nodeId), {
      // nodes and networks: the mesh view lists every node's ingress address
      tables: ["tasks", "services", "nodes", "networks"],
      signal: this.abort.signal,
    });
    const first = completeAssignment(result, this.nodeId);
    const known = new Map(first.tasks.map((t) => [t.ID, t.Version?.Index ?? 0]));
    // The node's tasks as last seen and the payloads it holds, to keep its secrets and configs in
    // line with them (dependencies.ts).
    const mine = new Map(first.tasks.map((t) => [t.ID, t]));
    const held: DependencyIds = { secrets: new Set(), configs: new Set() };
    const peers: PeersSent = { sent: "" };
    const firstOut = this.withDependencies(first, mine, held) ?? first;
    yield this.withPeers(firstOut, mine, peers) ?? firstOut;
    const iterator = events[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || this.abort.signal.aborted) return;
        if (next.value.table !== "tasks") {
          // a service's VIPs, ports or name, a node's address: only the data plane's view can change
          const out = this.withPeers({ kind: "incremental", tasks: [], removed: [] }, mine, peers);
          if (out) yield out;
          continue;
        }
        const event = next.value as StoreEvent<"tasks">;
        const change: { task: Task; deleted: boolean } = {
          task: event.object,
          deleted: event.kind === "delete",
        };
        // Other nodes' tasks change nothing here unless they are on this node's networks.
        const ours = change.task.NodeID === this.nodeId || mine.has(change.task.ID);
        if (!ours) {
          const nets = nodeNetworks(mine.values(), this.nodeId);
          if (peers.mesh) nets.add(peers.mesh);
          if (!touchesNetworks(change.task, nets) && !touchesNetworks(event.previous, nets)) continue;
          const out = this.withPeers({ kind: "incremental", tasks: [], removed: [] }, mine, peers);
          if (out) yield out;
          continue;
        }
        if (change.deleted || change.task.NodeID !== this.nodeId) mine.delete(change.task.ID);
        else mine.set(change.task.ID, change.task);
        const msg = incrementalAssignment(known, [change], this.nodeId);
        const base = msg ?? { kind: "incremental" as const, tasks: [], removed: [] };
        const deps = this.withDependencies(base, mine, held);
        const out = this.withPeers(deps ?? base, mine, peers);
        if (out) yield out;
        else if (deps) yield deps;
        else if (msg) yield msg;
      }
    } finally {
      await iterator.return?.();
    }
  }

  /**
   * Adds the secret and config changes the node's tasks imply to `msg` and records them in `held`;
   * undefined when there are none.
   */
  private withDependencies(
    msg: AssignmentMessage,
    tasks: ReadonlyMap<string, Task>,
    held: DependencyIds,
  ): AssignmentMessage | undefined {
    const diff = diffDependencies(held, neededDependencies(tasks.values(), this.nodeId));
    if (isEmptyDiff(diff)) return undefined;
    const { secrets, configs } = this.store.view((tx) => fetchPayloads(diff, payloadSource(tx)));
    for (const id of diff.removedSecrets) held.secrets.delete(id);
    for (const id of diff.removedConfigs) held.configs.delete(id);
    for (const p of secrets) held.secrets.add(p.ID);
    for (const p of configs) held.configs.add(p.ID);
    const out: AssignmentMessage = { ...msg };
    if (secrets.length > 0) out.secrets = secrets;
    if (configs.length > 0) out.configs = configs;
    if (diff.removedSecrets.length > 0) out.removedSecrets = diff.removedSecrets;
    if (diff.removedConfigs.length > 0) out.removedConfigs = diff.removedConfigs;
    return out;
  }

  /**
   * Adds the data plane's view (peers.ts, and mesh.ts while some service publishes an ingress
   * port) to `msg` when it differs from the one last sent; undefined when it does not.
   */
  private withPeers(
    msg: AssignmentMessage,
    tasks: ReadonlyMap<string, Task>,
    state: PeersSent,
  ): AssignmentMessage | undefined {
    const view = this.store.view((tx) => {
      const services = tx.list("services") as Service[];
      const mesh = meshView(tx.list("networks"), services, tx.list("nodes"));
      const nets = nodeNetworks(tasks.values(), this.nodeId);
      if (mesh) nets.add(mesh.Network.ID);
      state.mesh = mesh?.Network.ID;
      if (nets.size === 0 && state.sent === "") return undefined;
      const peers = networkPeers(tx.list("tasks"), services, nets, {
        self: this.nodeId,
        addrOf: (id) => tx.get("nodes", id)?.Status?.Addr,
      });
      return mesh ? { ...peers, mesh } : peers;
    });
    if (!view) return undefined;
    const text = JSON.stringify(view);
    if (text === state.sent) return undefined;
    state.sent = text;
    return { ...msg, peers: view };
  }

  updateTaskStatus(reports: TaskStatusReport[]): Promise<void> {
    return this.hooks.report(this.nodeId, reports);
  }

  async heartbeat(): Promise<number> {
    return this.hooks.heartbeat(this.nodeId, this.info.sessionId);
  }

  close(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.hooks.closed(this.nodeId, this.info.sessionId);
  }
}

const payloadOf = (obj: { ID: string; Spec?: { Name?: string; Data?: string } } | undefined) =>
  obj
    ? ({ ID: obj.ID, Name: obj.Spec?.Name ?? "", Data: obj.Spec?.Data ?? "" } as AssignedPayload)
    : undefined;

function payloadSource(tx: ReadTx): PayloadSource {
  return {
    secret: (id) => payloadOf(tx.get("secrets", id)),
    config: (id) => payloadOf(tx.get("configs", id)),
  };
}
