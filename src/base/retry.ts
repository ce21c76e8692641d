import type { Clock } from "./clock.ts";

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
}

/** Exponential backoff delays: initial, initial*factor, ... capped at max. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  return Math.min(opts.maxMs, opts.initialMs * opts.factor ** Math.max(0, attempt));
}

/**
 * Calls fn until it succeeds, the attempts run out, or the signal aborts; waits with backoff between
 * tries. `retryable` decides which errors are worth another try.
 */
export async function retry<T>(
  clock: Clock,
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { attempts: number; retryable?: (err: unknown) => boolean; signal?: AbortSignal },
): Promise<T> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < opts.attempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      lastErr = err;
      if (opts.retryable && !opts.retryable(err)) throw err;
      if (attempt + 1 < opts.attempts) await clock.sleep(backoffDelay(attempt, opts), opts.signal);
    }
  }
  throw lastErr;
}
