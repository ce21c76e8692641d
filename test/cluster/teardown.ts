/** Moved to src/devcluster (shared with `shoal up`); kept so that existing imports work. */
export {
  discoverInstances,
  instanceLinks,
  instanceNetns,
  leftovers,
  type Manifest,
  ownerAlive,
  readManifest,
  type TeardownOptions,
  teardownSync,
} from "../../src/devcluster/teardown.ts";
