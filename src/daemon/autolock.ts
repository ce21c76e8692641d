/**
 * Autolock as a node sees it: the locked state's texts and shape, and the pure decisions of
 * `swarm unlock`, `swarm leave` and `swarm init --autolock`. The keys themselves are in
 * node-keys.ts; following the cluster's key in kek-watch.ts.
 */
import type { SwarmInfo, SwarmSpec } from "../api/index.ts";
import type { Ids } from "../base/index.ts";
import { ErrorCode, ShoalError, unavailable } from "../base/index.ts";
import { generateUnlockKey } from "../ca/index.ts";
import type { NodeState } from "./node-state.ts";

/** moby's errSwarmLocked: every swarm call on a locked node (503). */
export const SWARM_LOCKED =
  'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.';
const LOCKED_LEAVE =
  "Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.";
/** moby's invalidUnlockKey (401). */
const INVALID_KEY = "swarm could not be unlocked: invalid key provided";

export const swarmLocked = (): ShoalError => unavailable(SWARM_LOCKED);
export const invalidUnlockKey = (): ShoalError => new ShoalError(ErrorCode.Unauthenticated, INVALID_KEY);
/** moby's notLockedError (409). */
export const notLocked = (): ShoalError => new ShoalError(ErrorCode.Conflict, "swarm is not locked");

/**
 * `/info`'s Swarm section of a locked node, as moby shows it: no node runs yet, so no node ID and
 * no managers, only the advertise address and the locked error.
 */
export function lockedSwarmInfo(state: NodeState): SwarmInfo {
  return {
    NodeID: "",
    NodeAddr: state.advertiseAddr,
    LocalNodeState: "locked",
    ControlAvailable: false,
    Error: SWARM_LOCKED,
    RemoteManagers: null,
  };
}

/** `swarm leave` on a locked node needs --force (the node cannot tell its managers it leaves). */
export function refuseLockedLeave(force: boolean): void {
  if (!force) throw unavailable(LOCKED_LEAVE);
}

/**
 * The spec and unlock key a new swarm starts with: `--autolock` (the request's AutoLockManagers)
 * or the spec's EncryptionConfig turns autolock on, and the spec then says so, as `GET /swarm`
 * shows.
 */
export function initAutolock(
  autoLockManagers: boolean | undefined,
  spec: SwarmSpec,
  ids: Ids,
): { spec: SwarmSpec; unlockKey?: string } {
  if (!autoLockManagers && !spec.EncryptionConfig?.AutoLockManagers) return { spec };
  return {
    spec: { ...spec, EncryptionConfig: { AutoLockManagers: true } },
    unlockKey: generateUnlockKey(ids),
  };
}
