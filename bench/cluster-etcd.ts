// etcd's own leader in a dev cluster, for bench/cluster.ts: shoal's leader (the lease holder that
// runs the controllers) and etcd's raft leader are separate, and a write is interrupted only when
// etcd's leader dies. To measure the worst case, as with Swarm (where they are one), the bench
// moves etcd's leadership to shoal's leader before killing it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterNode } from "../src/devcluster/index.ts";

interface EtcdView {
  /** Member ID of this node's etcd and of the leader it knows, in hex (etcdctl's form). */
  member: string;
  leader: string;
  endpoint: string;
}

const hex = (decimal: string): string => BigInt(decimal).toString(16);

/** This node's etcd member and the leader it sees, asked with etcdctl inside the node. */
export async function etcdView(n: ClusterNode): Promise<EtcdView> {
  const state = JSON.parse(readFileSync(join(n.shoalDataDir, "swarm", "state.json"), "utf8")) as {
    etcd?: { clientPort?: number };
  };
  const port = state.etcd?.clientPort;
  if (!port) throw new Error(`node ${n.index} has no etcd member`);
  const endpoint = `http://127.0.0.1:${port}`;
  const r = await n.exec(["etcdctl", "--endpoints", endpoint, "endpoint", "status", "-w", "json"], {
    timeoutMs: 10_000,
  });
  // Member IDs are uint64: read them from the text, JSON numbers would lose precision.
  const member = r.stdout.match(/"member_id":(\d+)/)?.[1];
  const leader = r.stdout.match(/"leader":(\d+)/)?.[1];
  if (r.code !== 0 || !member || !leader)
    throw new Error(`etcdctl on node ${n.index}: ${r.stderr}${r.stdout}`);
  return { member: hex(member), leader: hex(leader), endpoint };
}

/**
 * Makes `target`'s etcd member the raft leader (etcdctl move-leader, sent to the current leader).
 * Returns whether it had to move.
 */
export async function moveEtcdLeader(managers: ClusterNode[], target: ClusterNode): Promise<boolean> {
  const views = await Promise.all(managers.map(async (n) => ({ n, v: await etcdView(n) })));
  const want = views.find((x) => x.n === target)?.v.member;
  const current = views.find((x) => x.v.member === x.v.leader);
  if (!want || !current) throw new Error("no etcd leader among the managers");
  if (current.n === target) return false;
  const r = await current.n.exec(["etcdctl", "--endpoints", current.v.endpoint, "move-leader", want], {
    timeoutMs: 15_000,
  });
  if (r.code !== 0) throw new Error(`move-leader: ${r.stderr}`);
  return true;
}
