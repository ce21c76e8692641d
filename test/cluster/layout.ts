/** Moved to src/devcluster (shared with `shoal up`); kept so that existing imports work. */
export {
  CGROUP_PREFIX,
  instanceOfName,
  type Layout,
  layout,
  MAX_INSTANCES,
  MAX_NODES,
  NET_PREFIX,
  NETNS_DIR,
  type NodeLayout,
  nodeLayout,
  REGISTRY_PORT,
  STATE_PREFIX,
} from "../../src/devcluster/layout.ts";
