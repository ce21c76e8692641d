/**
 * Issue #5: autolock across three managers. The unlock key travels through the store: turning
 * autolock on or rotating the key on any manager rewraps every manager's keys; a restarted
 * manager comes up locked (its etcd member stopped), refuses the old key, unlocks with the rotated
 * one and is a Reachable manager again; a manager joining later wraps its keys at once, and
 * loses them to plain when demoted (workers are never locked); turning autolock off leaves every
 * manager's keys plain.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { isWrappedPrivateKey, parseUnlockKey, unwrapPrivateKey } from "../../src/ca/index.ts";
import { openDataKey } from "../../src/store/index.ts";
import { waitFor } from "../helpers/shoal.ts";
import { ClusterHarness, type ClusterNode } from "./harness.ts";
import { disposeAfterTests } from "./per-file.ts";

const LOCKED =
  'Error response from daemon: Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker swarm unlock" to unlock it.';

describe("autolock with three managers", () => {
  let cluster: ClusterHarness;
  before(async () => {
    cluster = await ClusterHarness.create({ nodes: 3, name: "al", shoal: true, registry: false });
    await cluster.formSwarm({ managers: 3 });
  });
  disposeAfterTests(() => cluster);

  const ok = async (n: ClusterNode, args: string[], input?: string) => {
    const r = await n.docker(args, input === undefined ? {} : { input });
    assert.equal(r.code, 0, `node ${n.index}: docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const keyFile = (n: ClusterNode) => join(n.shoalDataDir, "swarm/certificates/swarm-node.key");
  const dataKeyFile = (n: ClusterNode) => join(n.shoalDataDir, "swarm/keys/data.key");
  /** Both of a manager's keys are wrapped by this unlock key. */
  const wrappedBy = (n: ClusterNode, unlockKey: string): boolean => {
    const kek = parseUnlockKey(unlockKey);
    return (
      unwrapPrivateKey(readFileSync(keyFile(n), "utf8"), kek) !== undefined &&
      openDataKey(readFileSync(dataKeyFile(n)), kek) !== undefined
    );
  };
  const allWrappedBy = (unlockKey: string) =>
    waitFor(
      "every manager's keys wrapped by the cluster's unlock key",
      async () => [1, 2, 3].every((i) => wrappedBy(cluster.node(i), unlockKey)),
      30_000,
    );
  const reachable = (n: ClusterNode, hostname: string) =>
    waitFor(
      `${hostname} Ready Reachable/Leader in node ${n.index}'s view`,
      async () => {
        const r = await n.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"]);
        return r.stdout.split("\n").some((l) => new RegExp(`^${hostname} Ready (Reachable|Leader)$`).test(l));
      },
      60_000,
    );

  let key = "";
  let previous = "";

  test("autolock turned on at one manager reaches every manager", async () => {
    const out = await ok(cluster.node(1), ["swarm", "update", "--autolock=true"]);
    key = /SWMKEY-1-[A-Za-z0-9+/]+/.exec(out)?.[0] ?? "";
    assert.ok(key, out);
    for (const i of [2, 3])
      assert.equal((await ok(cluster.node(i), ["swarm", "unlock-key", "-q"])).trim(), key);
    await allWrappedBy(key);
  });

  test("a key rotated on a follower is rewrapped on every manager", async () => {
    const rotated = (await ok(cluster.node(3), ["swarm", "unlock-key", "--rotate", "-q"])).trim();
    assert.match(rotated, /^SWMKEY-1-/);
    assert.notEqual(rotated, key);
    await allWrappedBy(rotated);
    for (const i of [1, 2, 3])
      assert.ok(!wrappedBy(cluster.node(i), key), `node ${i} still opens with the old key`);
    previous = key;
    key = rotated;
  });

  test("a restarted manager is locked, refuses the old key, unlocks with the rotated one", async () => {
    const n2 = cluster.node(2);
    await n2.killShoal("SIGKILL");
    await n2.restartShoal();
    await waitFor(
      "node 2 locked",
      async () =>
        (await n2.docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim() === "locked",
      60_000,
    );
    const ls = await n2.docker(["node", "ls"]);
    assert.equal(ls.stderr.trim(), LOCKED);
    // The two others keep a quorum: writes still commit while node 2 is locked.
    await ok(cluster.node(1), [
      "service",
      "create",
      "-d",
      "--name",
      "while-locked",
      "busybox:local",
      "sleep",
      "1d",
    ]);
    const wrong = await n2.docker(["swarm", "unlock"], { input: `${previous}\n` });
    assert.equal(
      wrong.stderr.trim(),
      "Error response from daemon: swarm could not be unlocked: invalid key provided",
    );
    await ok(n2, ["swarm", "unlock"], `${key}\n`);
    await reachable(cluster.node(1), "al-node2");
    await waitFor(
      "node 2 serves the control API with the service created while it was locked",
      async () =>
        (await n2.docker(["service", "ls", "--format", "{{.Name}}"])).stdout.includes("while-locked"),
      60_000,
    );
    await ok(n2, ["service", "rm", "while-locked"]);
  });

  test("a manager joining the autolocked swarm wraps its keys before it starts", async () => {
    const n4 = await cluster.addNode({ shoal: true });
    const token = (await ok(cluster.node(1), ["swarm", "join-token", "-q", "manager"])).trim();
    await ok(n4, [
      "swarm",
      "join",
      "--token",
      token,
      "--advertise-addr",
      n4.addr,
      `${cluster.node(1).addr}:2377`,
    ]);
    assert.ok(wrappedBy(n4, key), "wrapped by the time the join returns");
    await reachable(cluster.node(1), "al-node4");
  });

  test("demoted to a worker: plain key, no data key, never locked", async () => {
    const n4 = cluster.node(4);
    await ok(cluster.node(1), ["node", "demote", "al-node4"]);
    await waitFor(
      "node 4 a worker with a plain key and no data key",
      async () => {
        const info = await n4.docker([
          "info",
          "--format",
          "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ]);
        return (
          info.stdout.trim() === "active false" &&
          !isWrappedPrivateKey(readFileSync(keyFile(n4), "utf8")) &&
          !existsSync(dataKeyFile(n4))
        );
      },
      60_000,
    );
    await n4.killShoal("SIGKILL");
    await n4.restartShoal();
    await waitFor(
      "node 4 resumed as a worker",
      async () =>
        (await n4.docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim() === "active",
      60_000,
    );
    await ok(cluster.node(1), ["node", "rm", "--force", "al-node4"]);
  });

  test("autolock turned off on one manager leaves every manager's keys plain", async () => {
    await ok(cluster.node(2), ["swarm", "update", "--autolock=false"]);
    await waitFor(
      "plain keys on every manager",
      async () =>
        [1, 2, 3].every((i) => {
          const n = cluster.node(i);
          return (
            !isWrappedPrivateKey(readFileSync(keyFile(n), "utf8")) &&
            readFileSync(dataKeyFile(n)).length === 32
          );
        }),
      30_000,
    );
    assert.equal(
      (await cluster.node(1).docker(["swarm", "unlock-key"])).stderr.trim(),
      "no unlock key is set",
    );
  });
});
