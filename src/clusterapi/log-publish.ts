/**
 * The node's answer to one log subscription: an upload stream to the manager carrying a header,
 * then the lines from the node's log source, then (if the source failed) an error. Ends when the
 * source is done, or when the manager cancels (the signal aborts or the manager resets the stream).
 */
import type { LogRequest, TaskLogSource } from "../api/index.ts";
import { asShoalError, unavailable } from "../base/index.ts";
import type { ClusterApiClient } from "./client.ts";
import { writeNdjson } from "./ndjson.ts";
import { type LogPublishMessage, PATHS, toWireLine } from "./protocol.ts";

export async function publishLogs(
  client: ClusterApiClient,
  subscriptionId: string,
  request: LogRequest,
  source: TaskLogSource | undefined,
  signal: AbortSignal,
): Promise<void> {
  const { stream, reply } = client.openUpload(PATHS.logsPublish);
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  stream.once("close", onAbort);
  const send = (msg: LogPublishMessage) => writeNdjson(stream, msg);
  try {
    await send({ type: "subscription", subscriptionId });
    if (!source) throw unavailable("this node does not serve logs");
    for await (const line of source.logs(request, ac.signal)) {
      if (ac.signal.aborted) break;
      await send({ type: "line", line: toWireLine(line) });
    }
  } catch (err) {
    if (!ac.signal.aborted) {
      const e = asShoalError(err);
      await send({ type: "error", error: { code: e.code, message: e.message } }).catch(() => undefined);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (ac.signal.aborted && !stream.destroyed) stream.close();
    else if (!stream.destroyed) stream.end();
  }
  await reply.catch(() => undefined);
}
