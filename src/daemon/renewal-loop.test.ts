import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { MemoryLogger, SeededIds, VirtualClock } from "../base/index.ts";
import { createNodeKeyAndCSR, createRootCA, NodeCertSigner } from "../ca/index.ts";
import { CertificateRenewer } from "./renewal-loop.ts";

const DAY = 24 * 3600 * 1000;
const tick = () => new Promise((r) => setImmediate(r));

/** Real timers overflow past 2^31 - 1 ms and fire at once; the virtual clock must not hide that. */
class TimerLimitClock extends VirtualClock {
  longest = 0;
  override setTimer(ms: number, fn: () => void) {
    this.longest = Math.max(this.longest, ms);
    return super.setTimer(ms, fn);
  }
}

describe("CertificateRenewer", () => {
  test("waits for the renewal window of a 90-day certificate (no timer overflow), renews at once when asked", async () => {
    const clock = new TimerLimitClock(Date.now());
    const ids = new SeededIds(7);
    const root = await createRootCA(clock, ids);
    const signer = await NodeCertSigner.create(
      { signingCertPem: root.certPem, signingKeyPem: root.keyPem },
      { clock, ids },
    );
    const { keyPem, csrPem } = await createNodeKeyAndCSR();
    const certPem = await signer.sign(csrPem, { nodeId: "n1", role: "worker", clusterId: "c1" });
    const dir = await mkdtemp(join(tmpdir(), "shoal-renewer-"));
    let attempts = 0;
    const renewer = new CertificateRenewer({
      dir,
      clock,
      ids,
      logger: new MemoryLogger(),
      advertiseAddr: "127.0.0.1",
      managerAddr: () => {
        attempts++;
        return "127.0.0.1:1"; // nothing listens: the attempt fails and is retried later
      },
      credentials: () => ({ certPem, keyPem, rootCAPem: root.certPem }),
      onRenewed: () => undefined,
    });
    const ac = new AbortController();
    const running = renewer.run(ac.signal);
    try {
      for (let h = 0; h < 24 * 44; h++) {
        clock.advance(3600 * 1000);
        await tick();
      }
      assert.equal(attempts, 0, "no renewal before 50% of the validity (45 days)");
      assert.ok(clock.longest < 2 ** 31, `a ${clock.longest} ms timer would overflow`);
      renewer.renewNow();
      for (let i = 0; i < 50 && attempts === 0; i++) await tick();
      assert.equal(attempts, 1);
      assert.ok(clock.now() < Date.now() + 45 * DAY);
    } finally {
      ac.abort();
      await running;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
