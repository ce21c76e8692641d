/**
 * Waiting for services: `shoal stack deploy --wait` (every service converged: running == desired,
 * and healthy, since a task with a healthcheck only counts as running once healthy) and
 * `depends_on` (a dependent is created only once what it depends on runs).
 */
import { type ServiceView, type StackClient, stackServices } from "./stack-client.ts";

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** One line per change of a service's progress. */
  progress?: (line: string) => void;
}

export type Convergence = "converged" | "pending" | "failed";

/** Where a service stands: a finished or failed update counts, as do running vs desired tasks. */
export function convergence(s: ServiceView): Convergence {
  const update = s.UpdateStatus?.State;
  if (update === "paused" || update === "rollback_paused" || update === "rollback_completed") return "failed";
  if (update === "updating" || update === "rollback_started") return "pending";
  const status = s.ServiceStatus;
  if (!status) return "pending";
  const mode = s.Spec.Mode ?? {};
  if ("ReplicatedJob" in mode || "GlobalJob" in mode) {
    return (status.CompletedTasks ?? 0) >= status.DesiredTasks ? "converged" : "pending";
  }
  // More running than desired: a scale-down or replacement is still under way.
  return status.RunningTasks === status.DesiredTasks ? "converged" : "pending";
}

function describe(s: ServiceView): string {
  const st = s.ServiceStatus;
  const counts = st ? `${st.RunningTasks}/${st.DesiredTasks} running` : "no status yet";
  const update = s.UpdateStatus?.State ? ` (update ${s.UpdateStatus.State})` : "";
  return `${s.Spec.Name}: ${counts}${update}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls until every named service converged; returns the names that did not (empty: success).
 * `names` are full service names (`app_web`).
 */
export async function waitForServices(
  client: StackClient,
  namespace: string,
  names: readonly string[],
  opts: WaitOptions,
): Promise<string[]> {
  const deadline = Date.now() + opts.timeoutMs;
  const last = new Map<string, string>();
  for (;;) {
    const services = (await stackServices(client, namespace, true)).filter((s) =>
      names.includes(s.Spec.Name),
    );
    const pending: string[] = [];
    for (const name of names) {
      const s = services.find((x) => x.Spec.Name === name);
      const state = s ? convergence(s) : "pending";
      const line = s
        ? `${describe(s)}${state === "converged" ? " ✓" : state === "failed" ? " ✗" : ""}`
        : `${name}: not found`;
      if (last.get(name) !== line) {
        last.set(name, line);
        opts.progress?.(line);
      }
      if (state === "failed") return [name];
      if (state !== "converged") pending.push(name);
    }
    if (pending.length === 0) return [];
    if (Date.now() >= deadline) return pending;
    await sleep(opts.intervalMs ?? 1000);
  }
}
