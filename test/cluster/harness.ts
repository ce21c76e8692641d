/**
 * The cluster tests' harness (DESIGN §7, see README.md): a multi-node cluster on one machine. The
 * machinery lives in src/devcluster, shared with `shoal up`; this is the API the tests use.
 *
 *   const cluster = await ClusterHarness.create({ nodes: 3, name: "t1" });
 *   await cluster.node(1).startShoal();
 *   await cluster.node(1).docker(["swarm", "init", "--advertise-addr", cluster.node(1).addr]);
 *   await cluster.partition(2); await cluster.heal(2);
 *   await cluster.dispose();
 */
import { DevCluster, type DevClusterOptions } from "../../src/devcluster/index.ts";

export {
  ClusterNode,
  ClusterStartError,
  type CmdResult as CliResult,
  leftovers,
  type PartitionDirection,
  type ProcessMemory,
  type Registry,
  type ShoalStartOptions,
  type SwarmResult,
  type Timings,
  waitFor,
} from "../../src/devcluster/index.ts";

/** A test's cluster: torn down when the test process exits, never persistent. */
export type ClusterOptions = Omit<DevClusterOptions, "persistent">;

export type ClusterHarness = DevCluster;

export const ClusterHarness = {
  /**
   * Builds the cluster (see DevCluster.create). Logs are kept on dispose when `keepLogs` or
   * $SHOAL_CLUSTER_KEEP_LOGS (a path, or "1") says so.
   */
  create(opts: ClusterOptions): Promise<ClusterHarness> {
    return DevCluster.create({
      ...opts,
      keepLogs: opts.keepLogs ?? process.env.SHOAL_CLUSTER_KEEP_LOGS,
      persistent: false,
    });
  },
};
