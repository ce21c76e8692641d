/**
 * shoal's own object shapes: where the Engine API's generated types lack a field Swarm really sends
 * (job status, rollback states) or where shoal keeps state the API never shows.
 */
import type {
  Node as EngineNode,
  Service as EngineService,
  Task as EngineTask,
  TaskState as EngineTaskState,
  ObjectVersion,
  Swarm,
} from "./generated/engine.ts";

/**
 * Swarm's task states with SwarmKit's numeric values, so states compare with `<` in Swarm's order
 * (`allocated` is deprecated in SwarmKit and sits between new and pending only by name).
 */
export const TaskStates = {
  new: 0,
  allocated: 128,
  pending: 64,
  assigned: 192,
  accepted: 256,
  preparing: 320,
  ready: 384,
  starting: 448,
  running: 512,
  complete: 576,
  shutdown: 640,
  failed: 704,
  rejected: 768,
  remove: 800,
  orphaned: 832,
} as const satisfies Record<EngineTaskState, number>;
export type TaskStateName = keyof typeof TaskStates;

export const taskStateOrder = (s: TaskStateName): number => TaskStates[s];

export type UpdateState =
  | "updating"
  | "paused"
  | "completed"
  | "rollback_started"
  | "rollback_paused"
  | "rollback_completed";

export interface UpdateStatus {
  State?: UpdateState;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

/** A service as stored: the Engine type with Swarm's rollback states and job status. */
export type Service = Omit<EngineService, "UpdateStatus"> & {
  ID: string;
  UpdateStatus?: UpdateStatus | null;
  JobStatus?: { JobIteration?: ObjectVersion; LastExecution?: string };
};

/** A task as stored. */
export type Task = EngineTask & { ID: string; JobIteration?: ObjectVersion };

/**
 * A node as stored. `Certificate` is SwarmKit's issuance state, kept for the root rotation: the
 * reconciler sets `rotate` to make the node renew; issuing a certificate sets `issued`. Never shown
 * by the Engine API.
 */
export type Node = EngineNode & { ID: string; Certificate?: { State: "issued" | "rotate" } };

/**
 * The cluster object: what `GET /swarm` shows, plus `Shoal`, state that never leaves the manager
 * (engineapi strips it).
 */
export type Cluster = Swarm & {
  ID: string;
  Shoal?: ClusterPrivate;
};

export interface ClusterPrivate {
  /** The manager unlock key when autolock is on (SWMKEY-1-...). */
  UnlockKey?: string;
  /** The root CA's private key (PKCS#8 PEM). */
  RootCAKey?: string;
  /** Removed nodes whose certificates are refused until they expire (node ID → expiry). */
  BlacklistedCertificates?: Record<string, { Expiry?: string }>;
  /** A root CA rotation in progress (SwarmKit's RootCA.RootRotation); `RootRotationInProgress` shows it. */
  RootRotation?: RootRotation;
  /** The `CAConfig.ForceRotate` value the current root (or rotation) answers (SwarmKit's LastForcedRotation). */
  LastForcedRotation?: number;
  /**
   * PEM appended to every certificate the current root issues: after a rotation, the new root
   * cross-signed by the old one, so a peer that still trusts only the old root (an etcd member
   * started before the rotation) keeps accepting certificates until it reloads its trust.
   */
  RootIntermediates?: string;
}

export interface RootRotation {
  /** The new root certificate and key (PKCS#8 PEM). */
  CACert: string;
  CAKey: string;
  /** The new root certificate signed by the current root's key. */
  CrossSignedCACert: string;
}
