import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { MemoryLogger, SeededIds, ShoalError, VirtualClock } from "../base/index.ts";
import { formatUnlockKey } from "../ca/index.ts";
import { defaultSwarmSpec } from "../manager/controlapi/index.ts";
import { MemoryStore } from "../store/memory.ts";
import { initAutolock, lockedSwarmInfo, SWARM_LOCKED } from "./autolock.ts";
import { kekChange } from "./kek-watch.ts";
import { NodeKeys } from "./node-keys.ts";
import { saveNodeState, swarmDir } from "./node-state.ts";
import type { NodeRuntime } from "./runtime.ts";
import { SwarmNode } from "./swarm-node.ts";
import { managerState } from "./testing.ts";

const state = managerState({ etcd: { clientPort: 1, peerPort: 2, peerTls: true } });

test("init: --autolock or the spec turns autolock on, with a fresh key; else no key", () => {
  const ids = new SeededIds(5);
  assert.deepEqual(initAutolock(false, defaultSwarmSpec(), ids), { spec: defaultSwarmSpec() });
  const byFlag = initAutolock(true, defaultSwarmSpec(), ids);
  assert.equal(byFlag.spec.EncryptionConfig?.AutoLockManagers, true);
  assert.match(byFlag.unlockKey ?? "", /^SWMKEY-1-/);
  const bySpec = initAutolock(
    undefined,
    { ...defaultSwarmSpec(), EncryptionConfig: { AutoLockManagers: true } },
    ids,
  );
  assert.match(bySpec.unlockKey ?? "", /^SWMKEY-1-/);
});

test("a node follows the cluster's unlock key, whatever it holds", () => {
  assert.equal(kekChange(undefined, undefined), undefined);
  assert.equal(kekChange("SWMKEY-1-a", "SWMKEY-1-a"), undefined);
  assert.deepEqual(kekChange(undefined, "SWMKEY-1-a"), { unlockKey: "SWMKEY-1-a" });
  assert.deepEqual(kekChange("SWMKEY-1-a", "SWMKEY-1-b"), { unlockKey: "SWMKEY-1-b" });
  assert.deepEqual(kekChange("SWMKEY-1-a", undefined), { unlockKey: undefined });
  assert.deepEqual(kekChange("SWMKEY-1-a", ""), { unlockKey: undefined });
});

test("a locked node's /info is moby's: no node ID, the locked error", () => {
  assert.deepEqual(lockedSwarmInfo(state), {
    NodeID: "",
    NodeAddr: "10.0.0.1",
    LocalNodeState: "locked",
    ControlAvailable: false,
    Error: SWARM_LOCKED,
    RemoteManagers: null,
  });
});

const fails = async (fn: () => unknown, status: string, message: string) =>
  assert.rejects(
    async () => fn(),
    (err: unknown) => ShoalError.is(err) && err.code === status && err.message === message,
  );

describe("SwarmNode with autolocked keys", () => {
  let root: string;
  let kek: Buffer;
  let starts: number;
  /** startRuntime fails this many times first (a manager without quorum). */
  let failFirst: number;

  const node = () => {
    const dataDir = join(root, "data");
    const runtime: NodeRuntime = {
      store: new MemoryStore(),
      stop: async () => undefined,
      taskLogs: () => [][Symbol.iterator]() as unknown as AsyncIterable<never>,
    };
    return new SwarmNode({
      dataDir,
      clock: new VirtualClock(),
      ids: new SeededIds(1),
      logger: new MemoryLogger(),
      keys: new NodeKeys(swarmDir(dataDir), join(root, "live")),
      startRuntime: async () => {
        starts++;
        if (failFirst > 0) {
          failFirst--;
          throw new Error("etcd has no quorum");
        }
        return runtime;
      },
      join: async () => assert.fail("no join here"),
      describeNode: async () => ({}),
    });
  };

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "shoal-lock-"));
    starts = 0;
    failFirst = 0;
    kek = randomBytes(32);
    const dataDir = join(root, "data");
    saveNodeState(dataDir, state);
    const keys = new NodeKeys(swarmDir(dataDir), join(root, "live"));
    await keys.setKek(kek);
    await keys.saveCredentials({
      certPem: "cert",
      rootCAPem: "root",
      keyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString(),
    });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("a restart comes up locked: nothing runs, every swarm call gets the locked error", async () => {
    const n = node();
    await n.start();
    assert.equal(starts, 0);
    assert.equal(n.swarmHeader(), "locked");
    assert.equal((await n.swarmInfo()).LocalNodeState, "locked");
    await fails(() => n.control(), "Unavailable", SWARM_LOCKED);
    await fails(
      () => n.taskLogs({ ID: "t" }, { follow: false, stdout: true, stderr: true }, AbortSignal.timeout(1000)),
      "Unavailable",
      SWARM_LOCKED,
    );
    await fails(
      () => n.swarmLeave(false),
      "Unavailable",
      "Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.",
    );
  });

  test("unlock: a malformed key, a wrong key, then the right one starts the node", async () => {
    const n = node();
    await n.start();
    await fails(() => n.swarmUnlock("nope"), "InvalidArgument", "invalid key string");
    await fails(
      () => n.swarmUnlock(formatUnlockKey(randomBytes(32))),
      "Unauthenticated",
      "swarm could not be unlocked: invalid key provided",
    );
    assert.equal(n.swarmHeader(), "locked");
    await n.swarmUnlock(formatUnlockKey(kek));
    assert.equal(starts, 1);
    assert.equal(n.swarmHeader(), "active/manager");
    await fails(() => n.swarmUnlock(formatUnlockKey(kek)), "Conflict", "swarm is not locked");
    await n.stop();
  });

  test("unlock with the right key but a node that cannot start: moby's error, then retrying, not locked", async () => {
    failFirst = 1;
    const n = node();
    await n.start();
    await fails(
      () => n.swarmUnlock(formatUnlockKey(kek)),
      "Internal",
      "swarm component could not be started: etcd has no quorum",
    );
    // unlocked and retrying (so that init --force-new-cluster can recover a manager without quorum)
    assert.equal(n.swarmHeader(), "error");
    assert.equal((await n.swarmInfo()).LocalNodeState, "error");
    await n.stop();
  });

  test("two unlocks at once start the node once; the second is told it is being prepared", async () => {
    const n = node();
    await n.start();
    const results = await Promise.allSettled([
      n.swarmUnlock(formatUnlockKey(kek)),
      n.swarmUnlock(formatUnlockKey(kek)),
    ]);
    assert.equal(results[0].status, "fulfilled");
    assert.equal(results[1].status, "rejected");
    assert.match(String((results[1] as PromiseRejectedResult).reason), /Manager is being prepared/);
    assert.equal(starts, 1);
    await n.stop();
  });

  test("leave --force on a locked node forgets the swarm", async () => {
    const n = node();
    await n.start();
    await n.swarmLeave(true);
    assert.equal(n.swarmHeader(), "inactive");
    await fails(
      () => n.swarmUnlock(formatUnlockKey(kek)),
      "Unavailable",
      'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
    );
    await n.start();
    assert.equal(n.swarmHeader(), "inactive", "nothing is left to resume");
  });
});
