/**
 * The persistent clusters of `shoal up`: finding the one recorded under a name, telling whether it
 * still works, and removing it with everything it left, also when the record and the instance no
 * longer agree (a reboot wiped /tmp, or a `shoal up` was interrupted before it wrote its record).
 */
import { DevCluster } from "./cluster.ts";
import { pingSocket } from "./daemon.ts";
import { layout } from "./layout.ts";
import { httpStatus } from "./registry.ts";
import { readRecord, removeRecord, type UpRecord } from "./state.ts";
import { discoverInstances, readManifest, teardownSync } from "./teardown.ts";

export type Recorded =
  | { state: "none" }
  /** The record points at an instance that is gone or is no longer this cluster's. */
  | { state: "gone"; record: UpRecord }
  | { state: "found"; record: UpRecord; cluster: DevCluster };

/** The cluster recorded as `name`, if its instance is still the one `shoal up` made. */
export function findRecorded(name: string, root?: string): Recorded {
  const record = readRecord(name, root);
  if (!record) return { state: "none" };
  const m = readManifest(layout(record.idx));
  if (!m?.persistent || m.name !== name || m.created !== record.created) return { state: "gone", record };
  return { state: "found", record, cluster: DevCluster.open(record.idx) };
}

/**
 * Why a recorded cluster cannot be reused (a daemon gone, a node not Ready, no registry), or
 * undefined when every node's shoal answers and the first one lists every node Ready.
 */
export async function unhealthy(c: DevCluster): Promise<string | undefined> {
  for (const n of c.nodes)
    if (!(await pingSocket(n.shoalSocket))) return `shoal on ${n.hostname} does not answer`;
  if (!c.hasRegistry || (await httpStatus(`http://${c.registry.addr}/v2/`)) !== 200)
    return "its registry does not answer";
  const r = await c
    .node(1)
    .docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"], { timeoutMs: 20_000 });
  if (r.code !== 0) return `docker node ls on ${c.node(1).hostname} failed: ${r.stderr.trim()}`;
  const ready = r.stdout.split("\n").filter((l) => l.endsWith(" Ready")).length;
  return ready === c.nodes.length ? undefined : `${ready} of ${c.nodes.length} nodes are Ready`;
}

/** Instances marked persistent with cluster name `name` (normally at most one). */
export function persistentInstances(name: string): number[] {
  return discoverInstances().filter((idx) => {
    const m = readManifest(layout(idx));
    return m?.persistent === true && m.name === name;
  });
}

/**
 * Removes the cluster recorded as `name` and any other persistent instance of that name, then the
 * record. Returns the instances removed; throws with what could not be removed.
 */
export function removeCluster(name: string, root?: string): number[] {
  const found = findRecorded(name, root);
  const targets = new Set(persistentInstances(name));
  if (found.state === "found") targets.add(found.record.idx);
  const problems: string[] = [];
  for (const idx of targets) problems.push(...teardownSync(idx));
  if (problems.length > 0)
    throw new Error(`cluster "${name}": could not remove everything:\n  ${problems.join("\n  ")}`);
  removeRecord(name, root);
  return [...targets].sort((a, b) => a - b);
}
