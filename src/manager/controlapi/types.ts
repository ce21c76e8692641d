/**
 * The control API: validated, defaulted reads and writes of cluster objects, as the Engine API
 * routes need them. Implementations run on every manager and write through the store; errors are
 * ShoalErrors with Swarm's messages.
 */
import type { Swarm, SwarmSpec } from "../../api/index.ts";

export interface SwarmUpdateFlags {
  /** The `version` query parameter: the cluster version the caller read. */
  version: number;
  rotateWorkerToken: boolean;
  rotateManagerToken: boolean;
  rotateManagerUnlockKey: boolean;
}

export interface ControlApi {
  /** `GET /swarm`: the cluster object with its join tokens. */
  inspectSwarm(): Swarm;
  /** `POST /swarm/update`. */
  updateSwarm(spec: SwarmSpec, flags: SwarmUpdateFlags): Promise<void>;
  /** `GET /swarm/unlockkey`: "" when autolock is off. */
  unlockKey(): string;
}
