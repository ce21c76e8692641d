/**
 * The one place that turns errors into HTTP statuses. Codes follow moby, which derives them from the
 * gRPC codes swarmkit returns (`httpstatus.statusCodeFromGRPCError`); the messages are shown by the
 * docker CLI verbatim, so they keep Docker's text.
 */
import { ErrorCode, LOST_QUORUM_MESSAGE, ShoalError } from "../base/index.ts";

interface HttpMapping {
  status: number;
  /** Replaces the error's own message where Docker's text is fixed and scripts match on it. */
  message?: string;
}

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, HttpMapping>> = {
  [ErrorCode.InvalidArgument]: { status: 400 },
  [ErrorCode.NotFound]: { status: 404 },
  [ErrorCode.AlreadyExists]: { status: 409 },
  [ErrorCode.Conflict]: { status: 409 },
  // moby maps gRPC FailedPrecondition to 400, not 412.
  [ErrorCode.FailedPrecondition]: { status: 400 },
  [ErrorCode.PermissionDenied]: { status: 403 },
  [ErrorCode.Unauthenticated]: { status: 401 },
  [ErrorCode.Unavailable]: { status: 503 },
  [ErrorCode.NotLeader]: { status: 503 },
  // swarmkit's store.ErrSequenceConflict crosses gRPC as code Unknown, which moby answers with 500.
  [ErrorCode.SequenceConflict]: {
    status: 500,
    message: "rpc error: code = Unknown desc = update out of sequence",
  },
  // SwarmKit's raft proxy returns its lost-quorum error as a plain error: gRPC Unknown, moby's 500.
  [ErrorCode.LostQuorum]: {
    status: 500,
    message: `rpc error: code = Unknown desc = ${LOST_QUORUM_MESSAGE}`,
  },
  [ErrorCode.NotImplemented]: { status: 501 },
  [ErrorCode.Internal]: { status: 500 },
};

export interface HttpError {
  status: number;
  message: string;
  /** True when the server is at fault (log at error); false for client mistakes (debug). */
  serverFault: boolean;
}

/** Fastify's own errors (bad content type, body too large...) carry a 4xx/5xx `statusCode`. */
function frameworkStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null || !("statusCode" in err)) return undefined;
  const status = (err as { statusCode: unknown }).statusCode;
  return typeof status === "number" && status >= 400 && status < 600 ? status : undefined;
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof ShoalError) {
    const mapping = STATUS_BY_CODE[err.code];
    const serverFault = err.code === ErrorCode.Internal;
    return { status: mapping.status, message: mapping.message ?? err.message, serverFault };
  }
  const status = frameworkStatus(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status !== undefined) return { status, message, serverFault: status >= 500 };
  return { status: 500, message, serverFault: true };
}
