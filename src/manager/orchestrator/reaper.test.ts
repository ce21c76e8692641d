import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SwarmService, SwarmTask } from "../../api/index.ts";
import { makeService, makeTask, type TaskOptions } from "../common/fixtures.ts";
import { reapTasks, removeServiceTasks } from "./reaper.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const svc = makeService("svc", { replicas: 1 });
const glob = makeService("glob", { mode: "global" });
const limited = makeService("lim", {
  template: { ContainerSpec: { Image: "x" }, RestartPolicy: { MaxAttempts: 3 } },
});
const services = new Map<string, SwarmService>([svc, glob, limited].map((s) => [s.ID, s]));

/** n stopped tasks in one slot, oldest first, then a running one. */
function history(s: SwarmService, n: number, o: TaskOptions = {}): SwarmTask[] {
  const out = Array.from({ length: n }, (_, i) =>
    makeTask(`${s.ID}-${i}`, s, {
      slot: 1,
      state: "failed",
      desired: "shutdown",
      timestamp: T0 + i * 1000,
      ...o,
    }),
  );
  out.push(makeTask(`${s.ID}-live`, s, { slot: 1, timestamp: T0 + n * 1000, ...o }));
  return out;
}

describe("reapTasks", () => {
  const table: Array<{ name: string; tasks: SwarmTask[]; limit?: number; want: string[] }> = [
    { name: "within the default limit of 5 (live task included)", tasks: history(svc, 4), want: [] },
    { name: "oldest stopped tasks beyond the limit", tasks: history(svc, 6), want: ["svc-0", "svc-1"] },
    { name: "cluster limit", tasks: history(svc, 3), limit: 2, want: ["svc-0", "svc-1"] },
    { name: "negative limit keeps everything", tasks: history(svc, 8), limit: -1, want: [] },
    {
      name: "MaxAttempts+1 overrides the limit",
      tasks: history(limited, 5),
      limit: 1,
      want: ["lim-0", "lim-1"],
    },
    {
      name: "global history is per node",
      tasks: history(glob, 6, { node: "n1" }),
      want: ["glob-0", "glob-1"],
    },
    {
      name: "desired REMOVE once stopped or never assigned",
      tasks: [
        makeTask("r1", svc, { slot: 2, state: "shutdown", desired: "remove" }),
        makeTask("r2", svc, { slot: 3, state: "pending", desired: "remove" }),
        makeTask("r3", svc, { slot: 4, state: "running", desired: "remove" }),
      ],
      want: ["r1", "r2"],
    },
    {
      name: "tasks of deleted services: outright, or once stopped when marked REMOVE",
      tasks: [
        makeTask("x", makeService("gone"), { slot: 1 }),
        makeTask("y", makeService("gone"), { slot: 2, desired: "remove" }),
        makeTask("z", makeService("gone"), { slot: 3, desired: "remove", state: "shutdown" }),
      ],
      want: ["x", "z"],
    },
    {
      name: "serviceless orphaned tasks",
      tasks: [{ ...makeTask("o", svc, { state: "orphaned" }), ServiceID: "" }],
      want: ["o"],
    },
    {
      name: "running tasks are never trimmed",
      tasks: Array.from({ length: 7 }, (_, i) => makeTask(`run${i}`, svc, { slot: 1 })),
      want: [],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      assert.deepEqual(
        reapTasks({
          tasks: c.tasks,
          services,
          ...(c.limit !== undefined ? { retentionLimit: c.limit } : {}),
        }),
        c.want,
      );
    });
  }
});

describe("removeServiceTasks", () => {
  it("sets desired REMOVE on every task not already beyond it", () => {
    const out = removeServiceTasks(
      [
        makeTask("a", svc),
        makeTask("b", svc, { desired: "shutdown" }),
        makeTask("c", svc, { desired: "remove" }),
      ],
      T0,
    );
    assert.deepEqual(
      out.map((t) => [t.ID, t.DesiredState]),
      [
        ["a", "remove"],
        ["b", "remove"],
      ],
    );
  });
});
