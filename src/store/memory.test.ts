import { storeConformance } from "./conformance.ts";
import { MemoryStore } from "./memory.ts";

storeConformance(
  "memory",
  async () => ({
    shared: false,
    open: async () => new MemoryStore(),
    compact: async (store) => (store as MemoryStore).compact(store.revision()),
    dispose: async () => {},
  }),
  { shared: false },
);
