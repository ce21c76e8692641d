/**
 * Nodes: list, inspect, update (role, availability, labels) and remove, as moby's
 * `daemon/cluster/nodes.go` over SwarmKit's `controlapi/node.go`. Promotion and demotion only
 * record the desired role here; the manager's membership code acts on the change.
 */
import type { NetworkedNode, Node, NodeSpec } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { failedPrecondition, internal, invalidArgument, notFound, timestamp } from "../../base/index.ts";
import { blacklistEntry, nodeCertExpiryMs, pruneBlacklist } from "../../ca/index.ts";
import type { ReadTx, WriteTx } from "../../store/types.ts";
import type { CoreDeps } from "./deps.ts";
import {
  type Filters,
  filterValues,
  labelFilterMap,
  matchesExact,
  matchesLabels,
  matchesPrefix,
  validateFilterKeys,
} from "./filters.ts";
import { resolveObject } from "./resolve.ts";
import { rpcText } from "./swarm.ts";

const NODE_FILTERS = ["name", "id", "label", "role", "membership", "node.label"];
const ROLES = ["worker", "manager"] as const;
const AVAILABILITIES = ["active", "pause", "drain"] as const;

const roleOf = (n: Node): string => n.Spec?.Role ?? "worker";
const membershipOf = (n: Node): string =>
  (n.Spec as { Membership?: string } | undefined)?.Membership ?? "accepted";

/** The stored node `input` names: full ID, hostname (or node name), unique ID prefix. */
export function resolveNode(tx: ReadTx, input: string): Node {
  return resolveObject("node", input, tx.list("nodes"), (n) => [n.Description?.Hostname, n.Spec?.Name]);
}

function enumFilter(values: readonly string[], allowed: readonly string[], what: string): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (allowed.includes(v.toLowerCase())) out.push(v.toLowerCase());
    else if (v !== "") throw internal(`Invalid ${what} filter: '${v}'`);
  }
  return out;
}

export function listNodes(deps: CoreDeps, filters: Filters = {}): Node[] {
  validateFilterKeys(filters, NODE_FILTERS);
  const names = filterValues(filters, "name");
  const ids = filterValues(filters, "id");
  const engineLabels = labelFilterMap(filterValues(filters, "label"));
  const nodeLabels = labelFilterMap(filterValues(filters, "node.label"));
  const roles = enumFilter(filterValues(filters, "role"), ROLES, "role");
  const memberships = enumFilter(filterValues(filters, "membership"), ["accepted", "pending"], "membership");
  return deps.store.view((tx) =>
    tx
      .list("nodes")
      .filter(
        (n) =>
          (names.length === 0 || matchesPrefix(n.Description?.Hostname ?? "", names)) &&
          matchesPrefix(n.ID, ids) &&
          (engineLabels.size === 0 || matchesLabels(n.Description?.Engine?.Labels, engineLabels)) &&
          matchesLabels(n.Spec?.Labels, nodeLabels) &&
          matchesExact(roleOf(n), roles) &&
          matchesExact(membershipOf(n), memberships),
      )
      .sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0))
      .map(publicNode),
  );
}

export function getNode(deps: CoreDeps, input: string): Node {
  return publicNode(deps.store.view((tx) => resolveNode(tx, input)));
}

/**
 * The allocator's per-node network attachments (load-balancer addresses) are not shown, as in
 * moby, nor the certificate issuance state (SwarmKit keeps it out of the Engine API too).
 */
function publicNode(stored: Node): Node {
  const { Attachments: _attachments, Certificate: _certificate, ...rest } = stored as NetworkedNode;
  return rest;
}

/** moby's NodeSpecToGRPC: role and availability must be known names (any case). */
export function convertNodeSpec(spec: NodeSpec): NodeSpec {
  const role = (spec.Role ?? "").toLowerCase();
  if (!(ROLES as readonly string[]).includes(role))
    throw invalidArgument(`invalid Role: "${spec.Role ?? ""}"`);
  const availability = (spec.Availability ?? "").toLowerCase();
  if (!(AVAILABILITIES as readonly string[]).includes(availability)) {
    throw invalidArgument(`invalid Availability: "${spec.Availability ?? ""}"`);
  }
  return {
    ...(spec.Name ? { Name: spec.Name } : {}),
    Labels: spec.Labels ?? {},
    Role: role as NodeSpec["Role"],
    Availability: availability as NodeSpec["Availability"],
  };
}

function isReachableManager(n: Node): boolean {
  const reach = n.ManagerStatus?.Reachability;
  return reach ? reach === "reachable" : n.Status?.State === "ready";
}

/** SwarmKit's demotion checks: never the last manager, never below quorum. */
function checkDemotion(tx: WriteTx, node: Node): void {
  const managers = tx.list("nodes").filter((n) => roleOf(n) === "manager");
  if (managers.length === 1 && managers[0]?.ID === node.ID) {
    throw failedPrecondition(
      rpcText("FailedPrecondition", "attempting to demote the last manager of the swarm"),
    );
  }
  const reachableAfter = managers.filter((n) => n.ID !== node.ID && isReachableManager(n)).length;
  const quorum = Math.floor((managers.length - 1) / 2) + 1;
  if (reachableAfter < quorum) {
    throw failedPrecondition(
      rpcText(
        "FailedPrecondition",
        "can't remove member from the raft: this would result in a loss of quorum",
      ),
    );
  }
}

export async function updateNode(
  deps: CoreDeps,
  input: string,
  version: number,
  requested: NodeSpec,
): Promise<void> {
  const spec = convertNodeSpec(requested);
  const id = deps.store.view((tx) => resolveNode(tx, input).ID);
  await deps.store.update((tx) => {
    const node = tx.get("nodes", id);
    if (!node) throw notFound(rpcText("NotFound", `node ${id} not found`));
    if (roleOf(node) === "manager" && spec.Role === "worker") checkDemotion(tx, node);
    tx.update("nodes", {
      ...node,
      Version: { Index: version },
      Spec: spec,
      UpdatedAt: timestamp(deps.clock),
    });
  });
}

/**
 * Removes a node that is down (or any worker with force). Its unfinished tasks become `orphaned`
 * in the same transaction: no agent will ever report on them again.
 */
export async function removeNode(deps: CoreDeps, input: string, force: boolean): Promise<void> {
  const id = deps.store.view((tx) => resolveNode(tx, input).ID);
  await deps.store.update((tx) => {
    const node = tx.get("nodes", id);
    if (!node) throw notFound(rpcText("NotFound", `node ${id} not found`));
    if (roleOf(node) === "manager") {
      throw failedPrecondition(
        rpcText(
          "FailedPrecondition",
          `node ${id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`,
        ),
      );
    }
    if (!force && node.Status?.State === "ready") {
      throw failedPrecondition(rpcText("FailedPrecondition", `node ${id} is not down and can't be removed`));
    }
    const now = timestamp(deps.clock);
    for (const task of tx.lookup("tasks", "node", id)) {
      if (TaskStates[task.Status?.State ?? "new"] >= TaskStates.complete) continue;
      const Status = {
        Timestamp: now,
        State: "orphaned" as const,
        Message: "Task belonged to a node that has been deleted",
      };
      tx.update("tasks", { ...task, Status });
    }
    tx.delete("nodes", id);
    blacklist(tx, id, deps.clock.now());
  });
}

/**
 * The removed node's certificate is refused from now on (SwarmKit's blacklisted_certificates). Its
 * exact expiry is not stored; any certificate issued so far expires within one cert lifetime from
 * now, so that bounds the entry. Expired entries are pruned on the way.
 */
function blacklist(tx: WriteTx, nodeId: string, now: number): void {
  const cluster = tx.list("clusters")[0];
  if (!cluster) return;
  const expiry = now + nodeCertExpiryMs(cluster.Spec?.CAConfig?.NodeCertExpiry);
  const list = pruneBlacklist(cluster.Shoal?.BlacklistedCertificates ?? {}, now);
  tx.update("clusters", {
    ...cluster,
    Shoal: { ...cluster.Shoal, BlacklistedCertificates: { ...list, [nodeId]: blacklistEntry(expiry) } },
  });
}
