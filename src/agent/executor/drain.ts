/**
 * How long a task's node keeps it running between leaving the backend sets and the stop signal
 * (api/drain.ts has the why). Pure: from the task alone.
 */
import {
  DEFAULT_DRAIN_PERIOD_MS,
  drainPeriodOf,
  type NetworkedTask,
  type SwarmTask,
  type Task,
} from "../../api/index.ts";

/**
 * True when other containers may be sending the task traffic: it is on a network (VIP, service DNS,
 * the ingress network of the routing mesh) or publishes a port through the mesh. Host-mode ports
 * alone bind only this node and are in no load balancer, so there is nothing to drain from.
 */
export function servesTraffic(task: Task): boolean {
  if (((task as NetworkedTask).NetworksAttachments ?? []).length > 0) return true;
  const ports = (task as SwarmTask).Endpoint?.Ports ?? [];
  return ports.some((p) => (p.PublishMode ?? "ingress") === "ingress");
}

/**
 * The task's drain period in ms: 0 when it serves nothing; its service's `io.shoal.drain-period`
 * label otherwise. The manager refuses a bad label, so one seen here predates that check: the
 * default applies rather than no drain at all.
 */
export function drainPeriodMs(task: Task): number {
  if (!servesTraffic(task)) return 0;
  const period = drainPeriodOf((task as SwarmTask).ServiceAnnotations?.Labels);
  return period.ok ? period.ms : DEFAULT_DRAIN_PERIOD_MS;
}
