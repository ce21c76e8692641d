/**
 * The node's side of a promotion or demotion (swarm-node.ts stops the old runtime before and
 * starts the new one after): a promoted node becomes an etcd member through one of its managers,
 * a demoted one drops its etcd data and its keys are plain again (workers are never locked).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { notImplemented } from "../base/index.ts";
import type { NodeState } from "./node-state.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import type { SwarmNodeDeps } from "./swarm-deps.ts";
import { firstThat } from "./swarm-texts.ts";

type RoleDeps = Pick<SwarmNodeDeps, "dataDir" | "keys" | "prepareManager">;

/** Readies the node for `role` and saves the state it runs with from now on. */
export async function prepareRole(
  deps: RoleDeps,
  from: NodeState,
  role: "manager" | "worker",
  managers: string[],
): Promise<NodeState> {
  const state: NodeState = { ...from, role, managers };
  if (role === "manager") {
    const creds = await deps.keys.credentials();
    if (!creds || !deps.prepareManager) throw notImplemented("promotion without credentials");
    await firstThat(managers, (addr) => deps.prepareManager?.(state, addr, creds));
  } else {
    state.etcd = { clientPort: 0, peerPort: 0 };
    await rm(join(swarmDir(deps.dataDir), "etcd"), { recursive: true, force: true });
    // Workers are never locked, and hold no data key.
    await deps.keys.setKek(undefined);
    await deps.keys.dropDataKey();
  }
  saveNodeState(deps.dataDir, state);
  return state;
}

/** After a failed promotion: it may have taken the cluster's unlock key, the worker's is plain. */
export async function undoRole(deps: RoleDeps, role: "manager" | "worker"): Promise<void> {
  if (role === "manager") await deps.keys.setKek(undefined);
}
