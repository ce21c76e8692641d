/**
 * `docker swarm leave` on a manager: moby's refusal texts (daemon/cluster/swarm.go Leave), and the
 * counts they are computed from.
 */
import type { Node } from "../api/index.ts";

const PREFIX = "You are attempting to leave the swarm on a node that is participating as a manager. ";

/** Reachable and unreachable managers, as the store's ManagerStatus says. */
export function managerStats(nodes: readonly Node[]): { reachable: number; unreachable: number } {
  const managers = nodes.filter((n) => n.Spec?.Role === "manager");
  const reachable = managers.filter((n) => n.ManagerStatus?.Reachability !== "unreachable").length;
  return { reachable, unreachable: managers.length - reachable };
}

/** moby's isLastManager. */
export const isLastManager = (reachable: number, unreachable: number): boolean =>
  reachable === 1 && unreachable === 0;

/** moby's removingManagerCausesLossOfQuorum. */
export const removingManagerCausesLossOfQuorum = (reachable: number, unreachable: number): boolean =>
  reachable - 2 <= unreachable;

/** What `swarm leave` without --force says on a manager (moby always refuses without --force). */
export function leaveRefusal(reachable: number, unreachable: number): string {
  let msg = PREFIX;
  if (removingManagerCausesLossOfQuorum(reachable, unreachable)) {
    if (isLastManager(reachable, unreachable)) {
      return `${msg}Removing the last manager erases all current state of the swarm. Use \`--force\` to ignore this message. `;
    }
    msg += `Removing this node leaves ${reachable - 1} managers out of ${reachable + unreachable}. Without a Raft quorum your swarm will be inaccessible. `;
  }
  return `${msg}The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`;
}
