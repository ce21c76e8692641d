import assert from "node:assert/strict";
import { test } from "node:test";
import type { Node } from "../api/index.ts";
import type { EtcdMemberInfo } from "../etcd/index.ts";
import { abandonedMembers } from "./etcd-reaper.ts";

const member = (id: string, name: string): EtcdMemberInfo => ({
  id,
  name,
  peerUrls: [`https://${name || id}:2380`],
});
const node = (id: string, role: "manager" | "worker", state: "ready" | "down" = "down"): Node => ({
  ID: id,
  Spec: { Role: role },
  Status: { State: state },
});

test("a member whose node is no manager and takes no part in the election goes after the grace period", () => {
  const members = [member("1", "a"), member("2", "b"), member("3", "c")];
  const nodes = [node("a", "manager"), node("b", "manager"), node("c", "worker")]; // c demoted while dead
  const live = new Set(["a", "b"]);
  const first = abandonedMembers(members, nodes, live, new Map(), 1000, 60_000);
  assert.deepEqual(first.remove, []);
  assert.deepEqual([...first.since], [["c", 1000]]);
  const later = abandonedMembers(members, nodes, live, first.since, 61_000, 60_000);
  assert.deepEqual(later.remove, ["3"]);
  // Removed from the store altogether (node rm) counts the same.
  assert.deepEqual(abandonedMembers(members, nodes.slice(0, 2), live, first.since, 61_000, 60_000).remove, [
    "3",
  ]);
});

test("a manager's member, a live one, or one coming back is never removed", () => {
  const members = [member("1", "a"), member("2", "b")];
  const since = new Map([["b", 0]]);
  // b is a manager in the store (restarting, say): kept, and its clock starts over.
  const r = abandonedMembers(
    members,
    [node("a", "manager"), node("b", "manager")],
    new Set(["a"]),
    since,
    99_000,
    60_000,
  );
  assert.deepEqual(r, { remove: [], since: new Map() });
  // b demoted and up (it removes its own member), even once out of the election: kept.
  assert.deepEqual(
    abandonedMembers(
      members,
      [node("a", "manager"), node("b", "worker", "ready")],
      new Set(["a"]),
      since,
      99_000,
      60_000,
    ).remove,
    [],
  );
  // b demoted but still taking part in the election (stepping down right now): kept.
  assert.deepEqual(
    abandonedMembers(
      members,
      [node("a", "manager"), node("b", "worker")],
      new Set(["a", "b"]),
      since,
      99_000,
      60_000,
    ).remove,
    [],
  );
});

test("a member that never started (no name) goes too; removals keep the quorum", () => {
  const members = [member("1", "a"), member("2", ""), member("3", "c"), member("4", "d")];
  const nodes = [node("a", "manager")];
  // Only a is live out of four: no removal keeps a reachable majority (etcd could not commit it).
  const since = new Map([
    ["id:2", 0],
    ["c", 0],
    ["d", 0],
  ]);
  const r = abandonedMembers(members, nodes, new Set(["a"]), since, 60_000, 60_000);
  assert.deepEqual(r.remove, []);
  // With b live too the unstarted member and the dead ones can go while a quorum remains.
  const two = abandonedMembers(
    [member("1", "a"), member("5", "b"), member("2", "")],
    [node("a", "manager"), node("b", "manager")],
    new Set(["a", "b"]),
    new Map([["id:2", 0]]),
    60_000,
    60_000,
  );
  assert.deepEqual(two.remove, ["2"]);
});
