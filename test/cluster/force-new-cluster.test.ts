/**
 * Issue #5: dead managers and `docker swarm init --force-new-cluster`. Four managers: one dies for
 * good and is demoted and removed; the leader removes its etcd member (nobody else can). Then two
 * of the three left are killed for good (daemon and etcd, kill -9), so the survivor has no quorum.
 * Its daemon, restarted, keeps running with the swarm in the `error` state. Forcing a new cluster
 * on it restarts its etcd member alone from its data: the same swarm (ID,
 * service, secret) works again, the dead managers are down and no longer managers (their etcd
 * members are gone), they can be removed, and a fresh machine joins as a manager with
 * `swarm join-token manager`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ClusterHarness, type ClusterNode, waitFor } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

describe("swarm init --force-new-cluster after losing the quorum", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 4, name: "fnc", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 4 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (n: ClusterNode, args: string[]) => {
    const r = await n.docker(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `node ${n.index}: docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const nodeLs = async (n: ClusterNode) =>
    (await ok(n, ["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"]))
      .trim()
      .split("\n")
      .map((l) => l.trim())
      .sort();
  /** The etcd members as the survivor's own member lists them. */
  const etcdMembers = async (n: ClusterNode) => {
    const state = JSON.parse(readFileSync(join(n.shoalDataDir, "swarm", "state.json"), "utf8"));
    const r = await n.exec([
      "etcdctl",
      `--endpoints=http://127.0.0.1:${state.etcd.clientPort}`,
      "member",
      "list",
      "-w",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout).members as Array<{ name: string }>).map((m) => m.name).sort();
  };

  let clusterId = "";
  const ids: Record<number, string> = {};

  test("a dead manager, demoted and removed: the leader removes its etcd member", async () => {
    const n1 = cluster.node(1);
    for (const i of [1, 2, 3, 4]) {
      ids[i] = (await ok(cluster.node(i), ["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    }
    assert.equal((await etcdMembers(n1)).length, 4);
    await cluster.node(4).killShoal("SIGKILL", { children: true });
    await waitFor(
      "node 4 Down and Unreachable",
      async () => (await nodeLs(n1)).includes("fnc-node4 Down Unreachable") || undefined,
      60_000,
    );
    await ok(n1, ["node", "demote", "fnc-node4"]);
    await ok(n1, ["node", "rm", "fnc-node4"]);
    const members = await waitFor(
      "3 etcd members",
      async () => {
        const m = await etcdMembers(n1);
        return m.length === 3 ? m : undefined;
      },
      120_000,
    );
    assert.deepEqual(members, [ids[1], ids[2], ids[3]].sort());
    await ok(n1, ["service", "create", "-d", "--name", "probe", "busybox:local", "sleep", "1d"]);
  });

  test("a service and a secret on three managers; two of them die for good", async () => {
    const n1 = cluster.node(1);
    clusterId = (await ok(n1, ["info", "--format", "{{.Swarm.Cluster.ID}}"])).trim();
    const secret = await n1.docker(["secret", "create", "keep-pw", "-"], { input: "s3cr3t" });
    assert.equal(secret.code, 0, secret.stderr);
    await ok(n1, [
      "service",
      "create",
      "-d",
      "--name",
      "app",
      "--replicas",
      "3",
      "--secret",
      "keep-pw",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    assert.equal((await etcdMembers(n1)).length, 3);
    await cluster.node(2).killShoal("SIGKILL", { children: true });
    await cluster.node(3).killShoal("SIGKILL", { children: true });
    // Without a quorum the survivor cannot commit.
    const stuck = await n1.docker(["service", "scale", "-d", "app=4"], { timeoutMs: 20_000 });
    assert.notEqual(stuck.code, 0, "a write without quorum must not succeed");
  });

  test("the survivor restarted without a quorum: its daemon runs, its swarm is in error", async () => {
    const n1 = cluster.node(1);
    await n1.restartShoal();
    const info = await waitFor(
      "LocalNodeState error",
      async () => {
        const r = await n1.docker(["info", "--format", "{{.Swarm.LocalNodeState}}|{{.Swarm.Error}}"]);
        return r.stdout.startsWith("error|") ? r.stdout.trim() : undefined;
      },
      90_000,
    );
    assert.match(info, /^error\|.+/, "the reason is shown");
    const ls = await n1.docker(["node", "ls"]);
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /Manager is being prepared or has trouble connecting to the cluster/);
  });

  test("init --force-new-cluster on the survivor: same swarm, one etcd member, dead managers down", async () => {
    const n1 = cluster.node(1);
    const started = Date.now();
    const init = await ok(n1, ["swarm", "init", "--force-new-cluster", "--advertise-addr", n1.addr]);
    console.error(`swarm init --force-new-cluster took ${Date.now() - started} ms`);
    assert.match(init, new RegExp(`Swarm initialized: current node \\(${ids[1]}\\) is now a manager`));
    assert.equal((await ok(n1, ["info", "--format", "{{.Swarm.Cluster.ID}}"])).trim(), clusterId);
    assert.deepEqual(await etcdMembers(n1), [ids[1]]);
    const ls = await waitFor(
      "node ls: the survivor leads, the others are down",
      async () => {
        const l = await nodeLs(n1).catch(() => []);
        return l.length === 3 && /Ready Leader$/.test(l[0] ?? "") ? l : undefined;
      },
      30_000,
    );
    assert.deepEqual(ls, ["fnc-node1 Ready Leader", "fnc-node2 Down", "fnc-node3 Down"]);
    assert.equal((await ok(n1, ["info", "--format", "{{.Swarm.Managers}}"])).trim(), "1");
    assert.match(await ok(n1, ["secret", "ls", "--format", "{{.Name}}"]), /keep-pw/);
  });

  test("writes work again: a service update converges on the survivor", async () => {
    const n1 = cluster.node(1);
    await ok(n1, ["service", "update", "-d", "--env-add", "AFTER=1", "app"]);
    await waitFor(
      "3 running app tasks with the new env",
      async () => {
        const out = await ok(n1, [
          "service",
          "ps",
          "app",
          "--filter",
          "desired-state=running",
          "--format",
          "{{.Node}} {{.CurrentState}}",
        ]);
        const running = out.split("\n").filter((l) => / Running/.test(l));
        return running.length === 3 && running.every((l) => l.startsWith("fnc-node1 ")) ? true : undefined;
      },
      90_000,
    );
    const env = await ok(n1, [
      "service",
      "inspect",
      "app",
      "--format",
      "{{json .Spec.TaskTemplate.ContainerSpec.Env}}",
    ]);
    assert.match(env, /AFTER=1/);
  });

  test("the dead managers can be removed; a fresh machine joins as a manager", async () => {
    const n1 = cluster.node(1);
    await ok(n1, ["node", "rm", "fnc-node2", "fnc-node3"]);
    const token = (await ok(n1, ["swarm", "join-token", "-q", "manager"])).trim();
    const fresh = await cluster.addNode({ shoal: true });
    assert.equal(fresh.index, 5);
    await ok(fresh, ["swarm", "join", "--token", token, "--advertise-addr", fresh.addr, `${n1.addr}:2377`]);
    const ls = await waitFor(
      "node 4 a reachable manager",
      async () => {
        const l = await nodeLs(n1);
        return l.includes(`${fresh.hostname} Ready Reachable`) ? l : undefined;
      },
      60_000,
    );
    assert.deepEqual(ls, ["fnc-node1 Ready Leader", `${fresh.hostname} Ready Reachable`].sort());
    const idFresh = (await ok(fresh, ["info", "--format", "{{.Swarm.NodeID}}"])).trim();
    assert.deepEqual(await etcdMembers(n1), [ids[1], idFresh].sort());
    // The new manager serves the control API: a write through it commits.
    await ok(fresh, ["service", "scale", "-d", "app=4"]);
    await waitFor(
      "app at 4 replicas",
      async () =>
        (await ok(n1, ["service", "ls", "--format", "{{.Replicas}}"])).includes("/4") ? true : undefined,
      30_000,
    );
  });
});
