/** Moved to src/devcluster (shared with `shoal up`); kept so that existing imports work. */
export { httpStatus, type Registry, startRegistry } from "../../src/devcluster/registry.ts";
