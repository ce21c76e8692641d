/**
 * Every node renews its certificate before it expires: at a random point between 50% and 80% of
 * its validity (SwarmKit's renewer), through a manager's cluster API, authenticated by the current
 * certificate. The new credentials are saved, then handed to whoever presents them (the session
 * connector reads them per session; a manager's cluster API server swaps its context; etcd re-reads
 * the files on each handshake). `renewNow()` skips the wait (a role change in the store).
 */
import type { Clock, Ids, Logger } from "../base/index.ts";
import { backoffDelay } from "../base/index.ts";
import type { NodeCredentials, NodeRole } from "../ca/index.ts";
import { parseNodeCertificate, randomFraction, renewalDelayMs, saveNodeCredentials } from "../ca/index.ts";
import { renewCertificate } from "../clusterapi/index.ts";

export interface RenewalDeps {
  /** The swarm directory the credentials live in. */
  dir: string;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** Kept as an IP SAN while the node is a manager. */
  advertiseAddr: string;
  /** A manager to ask (asked again for every attempt). */
  managerAddr(): string;
  credentials(): NodeCredentials;
  /** Saves renewed credentials (autolock wraps the key); default: plain files in `dir`. */
  save?(credentials: NodeCredentials): Promise<void>;
  onRenewed(credentials: NodeCredentials, role: NodeRole): void;
}

/**
 * Timers overflow past 2^31 ms (~24.8 days; Node then fires at once) and a 90-day certificate
 * renews after ~45 days: wait in slices of at most an hour and look again.
 */
const MAX_WAIT_MS = 3_600_000;

export class CertificateRenewer {
  private wake = new AbortController();

  constructor(private readonly deps: RenewalDeps) {}

  /** Renews at once (after a role change); the loop then waits for the next window again. */
  renewNow(): void {
    this.wake.abort();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { clock, ids, logger } = this.deps;
    for (let failures = 0; !signal.aborted; ) {
      const validity = parseNodeCertificate(this.deps.credentials().certPem);
      const delay =
        failures === 0
          ? renewalDelayMs(validity, clock.now(), randomFraction(ids))
          : backoffDelay(failures, { initialMs: 1000, maxMs: 30_000, factor: 2 });
      const woken = this.wake.signal;
      await clock
        .sleep(Math.min(delay, MAX_WAIT_MS), AbortSignal.any([signal, woken]))
        .catch(() => undefined);
      if (signal.aborted) return;
      if (!woken.aborted && delay > MAX_WAIT_MS) continue;
      this.wake = new AbortController();
      try {
        const renewed = await renewCertificate({
          addr: this.deps.managerAddr(),
          credentials: this.deps.credentials(),
          advertiseAddr: this.deps.advertiseAddr,
          clock,
        });
        await (this.deps.save?.(renewed.credentials) ??
          saveNodeCredentials(this.deps.dir, renewed.credentials));
        this.deps.onRenewed(renewed.credentials, renewed.role);
        logger.info({ role: renewed.role }, "certificate renewed");
        failures = 0;
      } catch (err) {
        failures++;
        logger.warn({ err, failures }, "certificate renewal failed; retrying");
      }
    }
  }
}
