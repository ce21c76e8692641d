import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import * as tls from "node:tls";
import { SeededIds, SystemClock } from "../base/index.ts";
import {
  createNodeKeyAndCSR,
  createRootCA,
  crossSignRootCA,
  NodeCertSigner,
  rotationSigningMaterial,
  verifyNodeCertificate,
} from "./index.ts";

/** Whether a TLS client trusting `ca` accepts a server presenting `chain` (real OpenSSL chain building). */
async function handshake(chain: string, key: string, ca: string): Promise<boolean> {
  const server = tls.createServer({ cert: chain, key }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<boolean>((resolve) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "swarm-manager" }, () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.on("error", () => resolve(false));
    });
  } finally {
    server.close();
  }
}

test("during a root rotation, certificates from the new key are trusted by the old and the new root", async () => {
  const clock = new SystemClock();
  const ids = new SeededIds(21);
  const oldRoot = await createRootCA(clock, ids);
  const newRoot = await createRootCA(clock, ids);
  const cross = await crossSignRootCA(oldRoot, newRoot.certPem, ids);
  const signer = await NodeCertSigner.create(rotationSigningMaterial(newRoot, cross), { clock, ids });
  const { csrPem, keyPem } = await createNodeKeyAndCSR();
  const chain = await signer.sign(csrPem, { nodeId: "m1", role: "manager", clusterId: "c1" });
  assert.equal((await verifyNodeCertificate(chain, oldRoot.certPem, clock.now())).nodeId, "m1");
  assert.ok(await handshake(chain, keyPem, oldRoot.certPem), "old root trusts the rotated chain");
  assert.ok(await handshake(chain, keyPem, newRoot.certPem), "new root trusts the rotated chain");
  const unrelated = await createRootCA(clock, ids);
  assert.ok(!(await handshake(chain, keyPem, unrelated.certPem)), "an unrelated root does not");
});
