/**
 * Writing a pass's plan. No double assignment, even with two allocators racing (an old leader that
 * has not noticed yet): every network in which the pass handed something out carries a guard,
 * `Allocator.Generation`, which each commit compares with the value the pass read and bumps; a
 * concurrent pass that handed out anything in the same network then fails its compare and re-runs
 * from a fresh snapshot. Published ports are guarded by the ingress network, subnets and VNIs by
 * every network. Other fields are merged into the current objects (the allocator owns
 * `Endpoint`, `NetworksAttachments`, `Node.Attachments` and a new task's move to pending), so
 * heartbeats and status updates never make a pass fail. A waiting task's `Status.Err` is written
 * only while it is still new. Plans too big for one transaction are written in chunks, each
 * carrying the guards again.
 */
import type { NetworkedNode, NetworkedTask, SwarmService, Task } from "../../api/index.ts";
import { SequenceConflictError } from "../../base/index.ts";
import type { Store, SwarmNetwork, WriteTx } from "../../store/types.ts";
import { specsEqual } from "../common/spec.ts";
import type { PassPlan } from "./pass.ts";
import type { AllocSnapshot } from "./rebuild.ts";

/** Room left in one transaction (etcd allows 128 operations) for the guard writes. */
const MAX_OPS = 120;

const raced = (id: string) => new SequenceConflictError(`allocator: network ${id} changed under this pass`);

export async function commitPlan(store: Store, snap: AllocSnapshot, plan: PassPlan): Promise<number> {
  const expected = new Map<string, number>();
  for (const n of snap.networks) if (plan.guards.has(n.ID)) expected.set(n.ID, n.Allocator?.Generation ?? 0);
  const units = objectWrites(snap, plan);
  const fixed = new Set([...plan.guards, ...plan.networks.keys()]).size + plan.deleteNetworks.length;
  const size = Math.max(1, MAX_OPS - fixed);
  const chunks: Array<Array<(tx: WriteTx) => void>> = [];
  for (let i = 0; i < units.length; i += size) chunks.push(units.slice(i, i + size));
  if (chunks.length === 0) chunks.push([]);
  for (const [i, chunk] of chunks.entries()) {
    await store.update((tx) => {
      writeNetworks(tx, plan, expected, i === 0);
      for (const unit of chunk) unit(tx);
    });
    for (const [id, gen] of expected) expected.set(id, gen + 1);
  }
  return units.length + plan.networks.size + plan.deleteNetworks.length;
}

function writeNetworks(
  tx: WriteTx,
  plan: PassPlan,
  expected: ReadonlyMap<string, number>,
  first: boolean,
): void {
  const ids = new Set([...plan.guards, ...(first ? plan.networks.keys() : [])]);
  for (const id of ids) {
    const cur = tx.get("networks", id);
    if (!cur) throw raced(id);
    const generation = cur.Allocator?.Generation ?? 0;
    const guarded = expected.has(id);
    if (guarded && generation !== expected.get(id)) throw raced(id);
    const next: SwarmNetwork = { ...cur };
    const allocated = first ? plan.networks.get(id) : undefined;
    if (allocated) {
      if (cur.IPAMOptions?.Configs?.length) throw raced(id);
      next.IPAMOptions = allocated.IPAMOptions;
      next.DriverState = allocated.DriverState;
    }
    if (guarded) next.Allocator = { Generation: generation + 1 };
    tx.update("networks", next);
  }
  if (!first) return;
  for (const id of plan.deleteNetworks) {
    if (tx.get("networks", id)?.PendingDelete) tx.delete("networks", id);
  }
}

function objectWrites(snap: AllocSnapshot, plan: PassPlan): Array<(tx: WriteTx) => void> {
  const units: Array<(tx: WriteTx) => void> = [];
  const services = new Map(snap.services.map((s) => [s.ID, s]));
  for (const [id, endpoint] of plan.services) {
    units.push((tx) => {
      const cur = tx.get("services", id) as SwarmService | undefined;
      // A spec changed since the snapshot: the next pass allocates for the new one.
      if (!cur || !specsEqual(cur.Spec, services.get(id)?.Spec)) return;
      tx.update("services", { ...cur, Endpoint: endpoint });
    });
  }
  for (const [id, task] of plan.tasks) {
    units.push((tx) => {
      const cur = tx.get("tasks", id) as NetworkedTask | undefined;
      if (cur?.Status?.State !== "new") return;
      const { Err: _waited, ...status } = { ...cur.Status, ...task.Status };
      const next: NetworkedTask = { ...cur, Status: status };
      if (task.NetworksAttachments) next.NetworksAttachments = task.NetworksAttachments;
      if (task.Endpoint) next.Endpoint = task.Endpoint;
      tx.update("tasks", next as unknown as Task);
    });
  }
  for (const [id, err] of plan.taskErrors) {
    units.push((tx) => {
      const cur = tx.get("tasks", id);
      if (cur?.Status?.State !== "new" || cur.Status.Err === err) return;
      tx.update("tasks", { ...cur, Status: { ...cur.Status, Err: err } });
    });
  }
  for (const [id, attachments] of plan.nodes) {
    units.push((tx) => {
      const cur = tx.get("nodes", id) as NetworkedNode | undefined;
      if (!cur) return;
      const next: NetworkedNode = { ...cur, Attachments: attachments };
      if (attachments.length === 0) delete next.Attachments;
      tx.update("nodes", next);
    });
  }
  return units;
}
