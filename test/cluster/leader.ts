/** Which manager leads, as the cluster tests read it from the real CLI. */
import type { ClusterHarness, ClusterNode } from "./harness.ts";

/** The index of the node `n`'s `docker node ls` marks Leader; undefined when it marks none. */
export async function leaderOf(cluster: ClusterHarness, n: ClusterNode): Promise<number | undefined> {
  const r = await n.docker(["node", "ls", "--format", "{{.Hostname}} {{.ManagerStatus}}"]);
  const host = r.stdout.match(/^(\S+) Leader$/m)?.[1];
  return cluster.nodes.find((x) => x.hostname === host)?.index;
}
