/**
 * Leadership from a LeaderElection (etcd's lease election across managers): the manager's loops
 * run for each term this candidate wins. An election that cannot start (etcd unreachable) is
 * retried with backoff until the manager stops.
 */
import type { Clock, Logger } from "../base/index.ts";
import { backoffDelay } from "../base/index.ts";
import type { LeaderElection } from "../store/election.ts";
import type { Leadership } from "./manager.ts";

export function electionLeadership(
  election: LeaderElection,
  clock: Clock,
  logger: Logger,
  onLeaderChange?: (leaderId: string | undefined) => void,
): Leadership {
  return async (signal, onElected) => {
    const terms = new Set<Promise<void>>();
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await election.run(signal, {
          onElected: (term) => {
            // lead() logs and supervises its own loops; a rejection here is only logged.
            const running = onElected(term).catch((err: unknown) => logger.error({ err }, "term failed"));
            terms.add(running);
            void running.finally(() => terms.delete(running));
          },
          ...(onLeaderChange ? { onLeaderChange } : {}),
        });
      } catch (err) {
        logger.warn({ err, attempt }, "leader election unavailable; retrying");
        await clock
          .sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 5000, factor: 2 }), signal)
          .catch(() => undefined);
      }
    }
    await Promise.all(terms);
  };
}
