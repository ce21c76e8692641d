import assert from "node:assert/strict";
import { test } from "node:test";
import type { Cluster } from "../../api/index.ts";
import { MemoryLogger, SeededIds } from "../../base/index.ts";
import { createRootCA, tlsInfoOf } from "../../ca/index.ts";
import { nextUnlockKey } from "./autolock.ts";
import { ControlApiImpl } from "./controlapi.ts";
import { defaultSwarmSpec } from "./swarm.ts";
import { makeDeps } from "./test-support.ts";

const on = { ...defaultSwarmSpec(), EncryptionConfig: { AutoLockManagers: true } };
const off = defaultSwarmSpec();

test("nextUnlockKey follows SwarmKit's UpdateCluster", () => {
  const ids = new SeededIds(1);
  assert.equal(nextUnlockKey(undefined, off, false, ids), undefined);
  assert.equal(nextUnlockKey("SWMKEY-1-old", off, false, ids), undefined, "autolock off drops the key");
  assert.equal(
    nextUnlockKey("SWMKEY-1-old", off, true, ids),
    undefined,
    "rotating with autolock off: nothing",
  );
  assert.equal(nextUnlockKey("SWMKEY-1-old", on, false, ids), "SWMKEY-1-old", "kept while on");
  const fresh = nextUnlockKey(undefined, on, false, ids);
  assert.match(fresh ?? "", /^SWMKEY-1-/);
  const rotated = nextUnlockKey("SWMKEY-1-old", on, true, ids);
  assert.match(rotated ?? "", /^SWMKEY-1-/);
  assert.notEqual(rotated, "SWMKEY-1-old");
});

test("swarm update turns autolock on, rotates, turns it off; the key never shows in GET /swarm", async () => {
  const deps = makeDeps();
  const root = await createRootCA(deps.clock, deps.ids);
  const cluster: Cluster = {
    ID: "c1",
    Spec: off,
    TLSInfo: tlsInfoOf(root.certPem),
    JoinTokens: { Worker: "w", Manager: "m" },
    Shoal: { RootCAKey: root.keyPem },
  };
  await deps.store.update((tx) => tx.create("clusters", cluster));
  const api = new ControlApiImpl({ ...deps, logger: new MemoryLogger() });
  const version = () => api.inspectSwarm().Version?.Index ?? 0;
  const flags = (rotate = false) => ({
    version: version(),
    rotateWorkerToken: false,
    rotateManagerToken: false,
    rotateManagerUnlockKey: rotate,
  });
  assert.equal(api.unlockKey(), "");
  await api.updateSwarm(on, flags());
  const first = api.unlockKey();
  assert.match(first, /^SWMKEY-1-/);
  assert.ok(!JSON.stringify(api.inspectSwarm()).includes(first));
  assert.equal(api.inspectSwarm().Spec?.EncryptionConfig?.AutoLockManagers, true);
  await api.updateSwarm(on, flags());
  assert.equal(api.unlockKey(), first, "an unrelated update keeps the key");
  await api.updateSwarm(on, flags(true));
  assert.notEqual(api.unlockKey(), first);
  await api.updateSwarm(off, flags());
  assert.equal(api.unlockKey(), "");
  assert.equal(
    deps.store.view((tx) => tx.get("clusters", "c1"))?.Shoal?.RootCAKey,
    root.keyPem,
    "the rest of the private part is kept",
  );
});
