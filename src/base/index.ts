/** base: errors, clock, durations, IDs, logging, retry. Depends on nothing else in shoal. */
export type { Clock, Timer } from "./clock.ts";
export { msToNanos, NANOS_PER_MS, nanosToMs, SystemClock, timestamp, VirtualClock } from "./clock.ts";
export { formatGoDuration, parseGoDuration } from "./duration.ts";
export {
  alreadyExists,
  asShoalError,
  ErrorCode,
  failedPrecondition,
  internal,
  invalidArgument,
  LOST_QUORUM_MESSAGE,
  LostQuorumError,
  NotLeaderError,
  notFound,
  notImplemented,
  SequenceConflictError,
  ShoalError,
  unavailable,
} from "./errors.ts";
export type { Ids } from "./ids.ts";
export { ID_LENGTH, idFromBytes, isFullId, RandomIds, SeededIds } from "./ids.ts";
export type { Logger, LoggerOptions, LogLevel } from "./logging.ts";
export { createLogger, MemoryLogger, silentLogger } from "./logging.ts";
export type { BackoffOptions } from "./retry.ts";
export { backoffDelay, retry } from "./retry.ts";
