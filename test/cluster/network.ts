/** Moved to src/devcluster (shared with `shoal up`); kept so that existing imports work. */
export {
  claimInstance,
  PARTITION_TABLE,
  type PartitionDirection,
  partitionRules,
  prefixesOverlap,
  setupBridge,
  setupNodeNetwork,
} from "../../src/devcluster/network.ts";
