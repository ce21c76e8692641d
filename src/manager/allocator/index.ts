/**
 * manager/allocator: cluster resources for networks, services, tasks and nodes (IPAM, VNIs, VIPs,
 * published ports, node addresses); new tasks move to pending once theirs are allocated.
 */
export { MSG_PENDING, needsTaskAllocation } from "./allocate.ts";
export type { AllocatorDeps, AllocatorMemory } from "./controller.ts";
export { allocatorStep, newAllocatorMemory, runAllocator } from "./controller.ts";
export { DYNAMIC_PORT_END, DYNAMIC_PORT_START, VNI_START } from "./state.ts";
