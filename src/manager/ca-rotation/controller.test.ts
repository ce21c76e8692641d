import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Cluster, Node } from "../../api/index.ts";
import { MemoryLogger, SeededIds, SystemClock } from "../../base/index.ts";
import {
  clusterTlsInfo,
  createNodeKeyAndCSR,
  createRootCA,
  NodeCertSigner,
  nextRootCAState,
  nodeTlsInfo,
  parseJoinToken,
  rootCAStateOf,
  signingMaterialOf,
  tokenMatchesRoot,
  withRootCAState,
} from "../../ca/index.ts";
import { MemoryStore } from "../../store/index.ts";
import { rotationStep } from "./controller.ts";
import { decideRotation, ROTATE_BATCH_SIZE } from "./reconcile.ts";

const clock = new SystemClock();
const ids = new SeededIds(5);

async function rotatingCluster(): Promise<{ before: Cluster; rotating: Cluster }> {
  const root = await createRootCA(clock, ids);
  const before: Cluster = {
    ID: "c1",
    Spec: { Name: "default" },
    TLSInfo: clusterTlsInfo(root.certPem),
    JoinTokens: { Worker: "SWMTKN-old-w", Manager: "SWMTKN-old-m" },
    Shoal: { RootCAKey: root.keyPem },
  };
  const next = await nextRootCAState(rootCAStateOf(before), { ForceRotate: 1 }, clock, ids);
  return { before, rotating: withRootCAState(before, next, ids) };
}

const node = (id: string, tls: Node["Description"] extends infer D ? D : never): Node => ({
  ID: id,
  Spec: { Role: "worker" },
  Description: tls ?? {},
});

describe("decideRotation", () => {
  test("idle without a rotation; finish when every node has the new issuer", async () => {
    const { before, rotating } = await rotatingCluster();
    assert.deepEqual(decideRotation(before, [node("a", { TLSInfo: before.TLSInfo })]), { kind: "idle" });
    assert.deepEqual(decideRotation(rotating, [node("a", { TLSInfo: rotating.TLSInfo })]), {
      kind: "finish",
    });
  });

  test("unconverged nodes are told in batches of 30; those told already wait", async () => {
    const { before, rotating } = await rotatingCluster();
    const nodes = Array.from({ length: 40 }, (_, i) => node(`n${i}`, { TLSInfo: before.TLSInfo }));
    const first = decideRotation(rotating, nodes);
    assert.equal(first.kind, "rotate");
    assert.equal(first.kind === "rotate" && first.nodeIds.length, ROTATE_BATCH_SIZE);
    const told = nodes.map((n, i) => (i < 30 ? { ...n, Certificate: { State: "rotate" as const } } : n));
    assert.deepEqual(decideRotation(rotating, told), {
      kind: "rotate",
      nodeIds: ["n30", "n31", "n32", "n33", "n34", "n35", "n36", "n37", "n38", "n39"],
      waiting: 30,
    });
    // A node without any TLSInfo (never reported) is not converged either.
    assert.equal(decideRotation(rotating, [node("x", {})]).kind, "rotate");
  });
});

describe("rotationStep", () => {
  test("marks nodes, and once they renewed swaps the root and the join tokens", async () => {
    const { before, rotating } = await rotatingCluster();
    const store = new MemoryStore();
    await store.update((tx) => {
      tx.create("clusters", rotating);
      for (const id of ["a", "b"]) tx.create("nodes", node(id, { TLSInfo: before.TLSInfo }));
    });
    const deps = { store, clock, ids, logger: new MemoryLogger() };
    const wake = await rotationStep(deps, 1000);
    assert.deepEqual(wake, { wakeAt: 4000 });
    const marked = store.view((tx) => tx.list("nodes").map((n) => n.Certificate?.State));
    assert.deepEqual(marked, ["rotate", "rotate"]);

    // Both renew under the new key (what the CA does now), and report it.
    const signer = await NodeCertSigner.create(signingMaterialOf(rootCAStateOf(rotating)), { clock, ids });
    const oldRoot = before.TLSInfo?.TrustRoot ?? "";
    await store.update((tx) => {
      for (const n of tx.list("nodes")) tx.update("nodes", { ...n, Certificate: { State: "issued" } });
    });
    for (const id of ["a", "b"]) {
      const chain = await signer.sign((await createNodeKeyAndCSR()).csrPem, {
        nodeId: id,
        role: "worker",
        clusterId: "c1",
      });
      await store.update((tx) => {
        const n = tx.get("nodes", id) as Node;
        tx.update("nodes", { ...n, Description: { TLSInfo: nodeTlsInfo(chain, oldRoot) } });
      });
    }
    assert.deepEqual(await rotationStep(deps, 2000), {});
    const after = store.view((tx) => tx.list("clusters")[0]) as Cluster;
    const newRoot = rotating.Shoal?.RootRotation?.CACert ?? "";
    assert.equal(after.TLSInfo?.TrustRoot, newRoot);
    assert.equal(after.RootRotationInProgress, false);
    assert.equal(after.Shoal?.RootCAKey, rotating.Shoal?.RootRotation?.CAKey);
    assert.ok(tokenMatchesRoot(parseJoinToken(after.JoinTokens?.Worker ?? ""), newRoot));
    assert.ok(tokenMatchesRoot(parseJoinToken(after.JoinTokens?.Manager ?? ""), newRoot));
    // Nothing left to do.
    assert.deepEqual(await rotationStep(deps, 3000), {});
  });
});
