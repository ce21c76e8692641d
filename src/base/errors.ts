/**
 * The one error type of shoal. Every failure that crosses a module boundary is a ShoalError with a
 * code from a closed set; `engineapi/` maps codes to HTTP statuses in one table.
 */
export const ErrorCode = {
  InvalidArgument: "InvalidArgument",
  NotFound: "NotFound",
  AlreadyExists: "AlreadyExists",
  FailedPrecondition: "FailedPrecondition",
  PermissionDenied: "PermissionDenied",
  Unauthenticated: "Unauthenticated",
  Unavailable: "Unavailable",
  NotLeader: "NotLeader",
  Conflict: "Conflict",
  /** An optimistic-concurrency check failed: Swarm's "update out of sequence". */
  SequenceConflict: "SequenceConflict",
  /** The local manager has had no cluster leader for a while: Swarm's lost-quorum message. */
  LostQuorum: "LostQuorum",
  NotImplemented: "NotImplemented",
  Internal: "Internal",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ShoalError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ShoalError";
    this.code = code;
  }

  static is(err: unknown, code?: ErrorCode): err is ShoalError {
    return err instanceof ShoalError && (code === undefined || err.code === code);
  }
}

/** Raised when a write names a stale version; the message is Swarm's, which scripts match on. */
export class SequenceConflictError extends ShoalError {
  constructor(detail?: string) {
    super(ErrorCode.SequenceConflict, "update out of sequence", { cause: detail });
    this.name = "SequenceConflictError";
  }
}

/** SwarmKit's text when the raft has had no leader for a while (raft.go lostQuorumMessage). */
export const LOST_QUORUM_MESSAGE =
  "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/** Raised by every control call on a manager whose store has had no leader for longer than a grace. */
export class LostQuorumError extends ShoalError {
  constructor() {
    super(ErrorCode.LostQuorum, LOST_QUORUM_MESSAGE);
    this.name = "LostQuorumError";
  }
}

/** Raised by leader-only operations on a follower; carries where the leader is, if known. */
export class NotLeaderError extends ShoalError {
  readonly leaderAddr: string | undefined;

  constructor(leaderAddr?: string) {
    super(ErrorCode.NotLeader, leaderAddr ? `not the leader; leader is ${leaderAddr}` : "not the leader");
    this.name = "NotLeaderError";
    this.leaderAddr = leaderAddr;
  }
}

export const invalidArgument = (message: string): ShoalError =>
  new ShoalError(ErrorCode.InvalidArgument, message);
export const notFound = (message: string): ShoalError => new ShoalError(ErrorCode.NotFound, message);
export const alreadyExists = (message: string): ShoalError =>
  new ShoalError(ErrorCode.AlreadyExists, message);
export const failedPrecondition = (message: string): ShoalError =>
  new ShoalError(ErrorCode.FailedPrecondition, message);
export const unavailable = (message: string): ShoalError => new ShoalError(ErrorCode.Unavailable, message);
export const notImplemented = (what: string): ShoalError =>
  new ShoalError(ErrorCode.NotImplemented, `not implemented yet: ${what}`);
export const internal = (message: string, cause?: unknown): ShoalError =>
  new ShoalError(ErrorCode.Internal, message, { cause });

/** Turns anything thrown into a ShoalError, keeping the original as the cause. */
export function asShoalError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ShoalError(ErrorCode.Internal, message, { cause: err });
}
