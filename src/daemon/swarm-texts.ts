/** moby's texts for swarm membership calls, and small helpers of swarm-node.ts and its parts. */
import { invalidArgument, unavailable } from "../base/index.ts";

export const NOT_IN_SWARM = "This node is not part of a swarm";
export const ALREADY_IN_SWARM =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
export const NOT_A_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const WORKER_NOT_MANAGER =
  "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
export const MANAGER_PREPARING =
  "This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.";
export const LAST_MANAGER =
  "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. ";

/** Runs `fn` on each address in turn until one succeeds; rethrows the last failure. */
export async function firstThat(
  addrs: string[],
  fn: (addr: string) => Promise<void> | undefined,
): Promise<void> {
  let last: unknown = unavailable("no manager address known");
  for (const addr of addrs) {
    try {
      await fn(addr);
      return;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export function parseAvailability(value: string | undefined): "active" | "pause" | "drain" {
  const v = (value || "active").toLowerCase();
  if (v === "active" || v === "pause" || v === "drain") return v;
  throw invalidArgument(`invalid Availability "${value}": must be active, pause or drain`);
}
