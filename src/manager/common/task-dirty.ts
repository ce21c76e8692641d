/**
 * SwarmKit's `IsTaskDirty`: does a task still match its service's current spec? Shared by the
 * orchestrators/updater (which replace dirty tasks) and the control API (the `_up-to-date` task
 * filter the docker CLI polls while it waits for a rollout).
 */
import type { Node, SwarmService, SwarmTask, TaskSpec } from "../../api/index.ts";
import { TaskStates } from "../../api/index.ts";
import { nodeMatches, tryParseConstraints } from "./constraint.ts";
import { specsEqual } from "./spec.ts";

type WithPullOptions = { PullOptions?: unknown };

/**
 * True when the task must be replaced to match the service: its task spec or endpoint spec
 * differs. Not dirty when the spec versions are equal, or when only the placement constraints
 * changed and the task's node satisfies the new ones. For a task that already pulled its image
 * (desired ≤ running, observed in ready..running) a change of pull options alone (registry auth)
 * does not count.
 */
export function isTaskDirty(service: SwarmService, task: SwarmTask, node: Node | undefined): boolean {
  const sv = service.SpecVersion?.Index;
  const tv = task.SpecVersion?.Index;
  if (sv !== undefined && tv !== undefined && sv === tv) return false;

  const wanted: TaskSpec = structuredClone(service.Spec?.TaskTemplate ?? {});
  const current: TaskSpec = task.Spec ?? {};
  if (placementOnlyChanged(wanted, current) && nodeSatisfies(service, node)) return false;

  if (pulledAlready(task) && wanted.ContainerSpec && current.ContainerSpec) {
    (wanted.ContainerSpec as WithPullOptions).PullOptions = (
      current.ContainerSpec as WithPullOptions
    ).PullOptions;
  }
  if (!specsEqual(wanted, current)) return true;
  // An absent endpoint spec and an empty one are the same (SwarmKit compares nil-able protobufs).
  return (
    task.Endpoint !== undefined && !specsEqual(service.Spec?.EndpointSpec ?? {}, task.Endpoint.Spec ?? {})
  );
}

/** True when the two task specs differ in their placement and in nothing else. */
function placementOnlyChanged(wanted: TaskSpec, current: TaskSpec): boolean {
  if (specsEqual(wanted.Placement, current.Placement)) return false;
  return specsEqual({ ...wanted, Placement: current.Placement }, current);
}

function nodeSatisfies(service: SwarmService, node: Node | undefined): boolean {
  if (!node) return false;
  const constraints = tryParseConstraints(service.Spec?.TaskTemplate?.Placement?.Constraints);
  // SwarmKit logs a parse error and matches with no constraints at all.
  return nodeMatches(constraints ?? [], node);
}

function pulledAlready(task: SwarmTask): boolean {
  const desired = TaskStates[task.DesiredState ?? "new"];
  const observed = TaskStates[task.Status?.State ?? "new"];
  return desired <= TaskStates.running && observed >= TaskStates.ready && observed <= TaskStates.running;
}
