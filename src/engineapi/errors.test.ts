import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ErrorCode,
  LostQuorumError,
  NotLeaderError,
  notImplemented,
  SequenceConflictError,
  ShoalError,
  unavailable,
} from "../base/index.ts";
import { STATUS_BY_CODE, toHttpError } from "./errors.ts";

describe("error → HTTP mapping", () => {
  it("has one status per code, as moby", () => {
    const expected: Record<ErrorCode, number> = {
      InvalidArgument: 400,
      NotFound: 404,
      AlreadyExists: 409,
      Conflict: 409,
      FailedPrecondition: 400,
      PermissionDenied: 403,
      Unauthenticated: 401,
      Unavailable: 503,
      NotLeader: 503,
      SequenceConflict: 500,
      LostQuorum: 500,
      NotImplemented: 501,
      Internal: 500,
    };
    for (const code of Object.values(ErrorCode)) {
      assert.equal(toHttpError(new ShoalError(code, "m")).status, expected[code], code);
      assert.equal(STATUS_BY_CODE[code].status, expected[code]);
    }
  });
  it("uses Swarm's fixed text for a sequence conflict", () => {
    assert.deepEqual(toHttpError(new SequenceConflictError("index 3 != 4")), {
      status: 500,
      message: "rpc error: code = Unknown desc = update out of sequence",
      serverFault: false,
    });
  });
  it("answers a lost quorum as moby does with SwarmKit's error (gRPC Unknown → 500)", () => {
    assert.deepEqual(toHttpError(new LostQuorumError()), {
      status: 500,
      message:
        "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
      serverFault: false,
    });
  });
  it("keeps other messages verbatim", () => {
    assert.equal(
      toHttpError(unavailable("This node is not a swarm manager.")).message,
      "This node is not a swarm manager.",
    );
    assert.equal(toHttpError(notImplemented("GET /nodes")).message, "not implemented yet: GET /nodes");
    assert.equal(toHttpError(new NotLeaderError("10.0.0.1:2377")).status, 503);
  });
  it("turns anything else into a 500 server fault, and keeps framework statuses", () => {
    assert.deepEqual(toHttpError(new TypeError("boom")), { status: 500, message: "boom", serverFault: true });
    const tooLarge = Object.assign(new Error("Request body is too large"), { statusCode: 413 });
    assert.equal(toHttpError(tooLarge).status, 413);
    assert.equal(toHttpError(tooLarge).serverFault, false);
  });
});
