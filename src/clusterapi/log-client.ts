/**
 * Manager → manager log forwarding: when a node's session is on another manager, this manager asks
 * that one (manager-only endpoint) and gets the node's lines relayed.
 */
import type { LogLine, LogRequest } from "../api/index.ts";
import { ShoalError } from "../base/index.ts";
import type { NodeCredentials } from "../ca/index.ts";
import { MANAGER_OU, trustedRoots } from "../ca/index.ts";
import { ClusterApiClient } from "./client.ts";
import { readNdjson } from "./ndjson.ts";
import { fromWireLine, type LogStreamMessage, PATHS } from "./protocol.ts";

export class RemoteLogClient {
  constructor(
    private readonly addr: string,
    private readonly credentials: () => NodeCredentials,
    private readonly timeoutMs?: number,
  ) {}

  async *logs(nodeId: string, request: LogRequest, signal: AbortSignal): AsyncIterable<LogLine> {
    const c = this.credentials();
    const client = new ClusterApiClient(
      this.addr,
      { rootCAPem: trustedRoots(c), certPem: c.certPem, keyPem: c.keyPem, servername: MANAGER_OU },
      this.timeoutMs,
    );
    const onAbort = () => client.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const stream = await client.openStream(PATHS.logsSubscribe, { nodeId, request });
      signal.addEventListener("abort", () => stream.close(), { once: true });
      for await (const raw of readNdjson(stream)) {
        const msg = raw as LogStreamMessage;
        if (msg.type === "line") yield fromWireLine(msg.line);
        else if (msg.type === "error") throw new ShoalError(msg.error.code, msg.error.message);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      client.close();
    }
  }
}
