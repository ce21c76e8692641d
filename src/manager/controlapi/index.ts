/** manager/controlapi: validated reads and writes of cluster objects for the Engine API. */
export type { ControlApi, SwarmUpdateFlags } from "./types.ts";
