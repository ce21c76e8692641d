/**
 * The etcd3 client as shoal configures it: per-call deadlines, watch reconnection backoff capped
 * at 2 s, no circuit breaker in front of a single local member (the breaker would keep calls
 * failing for 5 s after the member is back, and there is no other host to fail over to), and,
 * for the store, unary calls that require a leader.
 */
import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import { Etcd3, type IOptions } from "etcd3";

type FaultHandling = NonNullable<IOptions["faultHandling"]>;
type HostPolicy = ReturnType<NonNullable<FaultHandling["host"]>>;
type WatchBackoff = NonNullable<FaultHandling["watchBackoff"]>;

export interface EtcdClientOptions {
  /** Deadline of one (non-streaming) call. */
  callTimeoutMs: number;
  /** Longest wait between watch reconnection attempts. */
  maxWatchBackoffMs: number;
  /** Unary calls fail at once with "etcdserver: no leader" while the member has no leader. */
  requireLeader: boolean;
}

export const defaultEtcdClientOptions = (): EtcdClientOptions => ({
  callTimeoutMs: 10_000,
  maxWatchBackoffMs: 2000,
  requireLeader: false,
});

/** A client for the given endpoints (the local member's client URL, normally). */
export function createEtcdClient(endpoints: string[], options: Partial<EtcdClientOptions> = {}): Etcd3 {
  const { callTimeoutMs, maxWatchBackoffMs, requireLeader } = { ...defaultEtcdClientOptions(), ...options };
  const faultHandling: FaultHandling = { watchBackoff: cappedBackoff(0, maxWatchBackoffMs) };
  if (endpoints.length === 1) faultHandling.host = () => passThrough;
  return new Etcd3({
    hosts: endpoints,
    faultHandling,
    // gRPC's own reconnect backoff grows to 2 minutes by default; a local member is back in seconds.
    grpcOptions: {
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": maxWatchBackoffMs,
      ...(requireLeader ? { interceptors: [hasLeaderMetadata] } : {}),
    },
    // A gRPC deadline is an absolute wall-clock time that gRPC itself checks, not a decision input.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  });
}

/** etcd's answer to a call that requires a leader when its member has none. */
export const isNoLeaderError = (err: unknown): boolean =>
  err instanceof Error && /etcdserver: no leader/.test(err.message);

/**
 * Unary calls carry etcd's `hasleader` metadata: a member without a leader (cut off from the
 * quorum, or during an election) answers "etcdserver: no leader" at once, before proposing
 * anything, instead of holding the call until its 7 s request timeout. The answer is therefore
 * safe to retry. Streams (watches, lease keep-alives) are left alone: etcd would cancel them
 * while leaderless, and the store's watch would then churn through an election.
 */
const hasLeaderMetadata: Interceptor = (options, nextCall) => {
  const def = options.method_definition;
  if (def.requestStream || def.responseStream) return new InterceptingCall(nextCall(options));
  return new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set("hasleader", "true");
      next(metadata, listener);
    },
  });
};

/** A policy that just runs the call: etcd3 only ever calls `execute`. */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => T | Promise<T>) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as HostPolicy;

/** Exponential backoff 100 ms, 200 ms, ... capped at maxMs, in the shape etcd3's watch manager uses. */
function cappedBackoff(duration: number, maxMs: number): WatchBackoff {
  return {
    duration,
    next: () => cappedBackoff(Math.min(maxMs, Math.max(100, duration * 2)), maxMs),
  } as WatchBackoff;
}
