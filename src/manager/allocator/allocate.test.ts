import assert from "node:assert/strict";
import { test } from "node:test";
import type { Task } from "../../api/index.ts";
import { allocateTasks, MSG_PENDING } from "./allocate.ts";

const task = (id: string, state: string, desired: string): Task =>
  ({ ID: id, Status: { State: state }, DesiredState: desired }) as Task;

test("new tasks that will run move to pending; others are left alone", () => {
  const out = allocateTasks(
    [
      task("run", "new", "running"),
      task("held", "new", "ready"),
      task("job", "new", "complete"),
      task("gone", "new", "shutdown"),
      task("removed", "new", "remove"),
      task("old", "running", "running"),
    ],
    "2026-01-01T00:00:00.000Z",
  );
  assert.deepEqual(
    out.map((t) => t.ID),
    ["run", "held", "job"],
  );
  assert.ok(out.every((t) => t.Status?.State === "pending" && t.Status.Message === MSG_PENDING));
});
