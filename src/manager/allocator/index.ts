/** manager/allocator: cluster resources for tasks (new → pending). */
export { allocateTasks, MSG_PENDING } from "./allocate.ts";
export type { AllocatorDeps } from "./controller.ts";
export { allocatorStep, runAllocator } from "./controller.ts";
