/**
 * Runs the filters that apply to one task group against nodes, and explains failures the way
 * SwarmKit's `Pipeline.Explain` does: each failing filter's message with its node count, most
 * failures first (ties in filter order), joined by "; ".
 */
import { FILTERS, type Filter, type Requirements } from "./filters.ts";
import type { NodeInfo } from "./nodeinfo.ts";

export class Pipeline {
  private readonly active: readonly Filter[];

  constructor(readonly req: Requirements) {
    this.active = FILTERS.filter((f) => f.enabled(req));
  }

  /** The first filter the node fails, or undefined if it passes them all. */
  firstFailure(info: NodeInfo): Filter | undefined {
    return this.active.find((f) => !f.check(this.req, info));
  }

  passes(info: NodeInfo): boolean {
    return this.firstFailure(info) === undefined;
  }

  /**
   * Why the nodes cannot take the task: every node is charged to the first filter it fails.
   * SwarmKit counts failures as a side effect of its search (reset whenever a node passes); shoal
   * counts over all nodes at the end, so the numbers always add up to the nodes that failed.
   */
  explain(infos: Iterable<NodeInfo>): string {
    const failures = new Map<Filter, number>();
    for (const info of infos) {
      const f = this.firstFailure(info);
      if (f) failures.set(f, (failures.get(f) ?? 0) + 1);
    }
    return this.active
      .filter((f) => failures.has(f))
      .map((f) => ({ f, n: failures.get(f) as number }))
      .sort((a, b) => b.n - a.n) // Array.prototype.sort is stable: ties stay in filter order
      .map(({ f, n }) => f.explain(n))
      .join("; ");
  }
}

/** Swarm's pending message for a task that fits nowhere. */
export function noSuitableNode(explanation: string): string {
  return explanation ? `no suitable node (${explanation})` : "no suitable node";
}
