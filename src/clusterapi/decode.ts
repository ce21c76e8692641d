/** Checks of the protocol's structured fields (the peer is untrusted). */
import type { LogRequest, NodeDescription, TaskStatusReport } from "../api/index.ts";
import { invalidArgument } from "../base/index.ts";
import type { WireLogLine } from "./protocol.ts";
import { asObject, type Json } from "./wire.ts";

const MAX_REPORTS = 10_000;

export function decodeDescription(v: unknown): NodeDescription {
  return (v === undefined ? {} : asObject(v, "description")) as NodeDescription;
}

export function decodeReports(v: unknown): TaskStatusReport[] {
  if (!Array.isArray(v) || v.length > MAX_REPORTS) throw invalidArgument("reports must be an array");
  return v.map((r) => {
    const o = asObject(r, "report");
    const status = asObject(o.status, "report status");
    if (typeof o.taskId !== "string" || typeof status.State !== "string") {
      throw invalidArgument("a report needs taskId and status.State");
    }
    return { taskId: o.taskId, status: status as TaskStatusReport["status"] };
  });
}

const bool = (o: Json, k: string): boolean => {
  if (typeof o[k] !== "boolean") throw invalidArgument(`${k} must be a boolean`);
  return o[k] as boolean;
};

const optNum = (o: Json, k: string): number | undefined => {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw invalidArgument(`${k} must be a number`);
  return v;
};

export function decodeLogRequest(v: unknown): LogRequest {
  const o = asObject(v, "log request");
  const ids = o.taskIds;
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === "string")) {
    throw invalidArgument("taskIds must be an array of strings");
  }
  const req: LogRequest = {
    taskIds: ids as string[],
    follow: bool(o, "follow"),
    stdout: bool(o, "stdout"),
    stderr: bool(o, "stderr"),
  };
  const tail = optNum(o, "tail");
  const since = optNum(o, "since");
  if (tail !== undefined) req.tail = tail;
  if (since !== undefined) req.since = since;
  return req;
}

export function decodeWireLine(v: unknown): WireLogLine {
  const o = asObject(v, "log line");
  if (
    typeof o.taskId !== "string" ||
    (o.stream !== "stdout" && o.stream !== "stderr") ||
    typeof o.timestamp !== "string" ||
    typeof o.line !== "string"
  ) {
    throw invalidArgument("malformed log line");
  }
  return { taskId: o.taskId, stream: o.stream, timestamp: o.timestamp, line: o.line };
}
