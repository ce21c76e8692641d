/**
 * The client side of the cluster API: one HTTP/2 connection to a manager, opened lazily and again
 * after it breaks, with a deadline on every call. TLS verifies the manager against the cluster root
 * and the expected server name (`swarm-manager`, or `swarm-ca` for the CA while joining); the
 * node's certificate, when it has one, authenticates it.
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants } from "node:http2";
import { ErrorCode, ShoalError, unavailable } from "../base/index.ts";
import { readBody } from "./ndjson.ts";
import { DEFAULT_CALL_TIMEOUT_MS, MAX_UNARY_BODY_BYTES } from "./protocol.ts";

export interface ClientTls {
  /** The trust root; undefined only to download the root itself (then pinned by the token digest). */
  rootCAPem: string | undefined;
  certPem?: string;
  keyPem?: string;
  servername: string;
}

const CODES = new Set<string>(Object.values(ErrorCode));

export class ClusterApiClient {
  private session: ClientHttp2Session | undefined;

  constructor(
    private readonly addr: string,
    private readonly tls: ClientTls,
    private readonly timeoutMs = DEFAULT_CALL_TIMEOUT_MS,
  ) {}

  /** A unary call: JSON in, JSON out, or a ShoalError with the server's code. */
  async call(path: string, body?: unknown, method: "GET" | "POST" = "POST"): Promise<unknown> {
    const { stream, timer } = this.request(path, method, this.timeoutMs);
    try {
      stream.end(body === undefined ? undefined : JSON.stringify(body));
      const status = await responseStatus(stream);
      const text = (await readBody(stream, MAX_UNARY_BODY_BYTES)).toString("utf8");
      return decodeReply(status, text);
    } finally {
      timer.cancel();
    }
  }

  /**
   * A streaming call: sends the JSON body, waits (with the deadline) for a 200, then hands back the
   * stream; the caller reads the rest and closes it.
   */
  async openStream(path: string, body: unknown): Promise<ClientHttp2Stream> {
    const { stream, timer } = this.request(path, "POST", this.timeoutMs);
    try {
      stream.end(JSON.stringify(body));
      await this.expectOk(stream);
      return stream;
    } finally {
      timer.cancel();
    }
  }

  /** An upload: the caller writes the request body and ends it; `reply` settles with the answer. */
  openUpload(path: string): { stream: ClientHttp2Stream; reply: Promise<unknown> } {
    const { stream, timer } = this.request(path, "POST", 0);
    timer.cancel();
    const reply = (async () => {
      const status = await responseStatus(stream);
      return decodeReply(status, (await readBody(stream, MAX_UNARY_BODY_BYTES)).toString("utf8"));
    })();
    // The caller awaits the reply only after its upload; until then a failure must not count as unhandled.
    reply.catch(() => undefined);
    return { stream, reply };
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  private async expectOk(stream: ClientHttp2Stream): Promise<void> {
    const status = await responseStatus(stream);
    if (status === 200) return;
    decodeReply(status, (await readBody(stream, MAX_UNARY_BODY_BYTES)).toString("utf8"));
  }

  private request(path: string, method: string, timeoutMs: number) {
    let stream: ClientHttp2Stream;
    try {
      stream = this.connection().request({
        ":method": method,
        ":path": path,
        "content-type": "application/json",
      });
    } catch (err) {
      this.close(); // a session that refuses new streams is replaced on the next call
      throw asTransportError(err);
    }
    const handle =
      timeoutMs > 0
        ? setTimeout(
            () => stream.destroy(unavailable(`cluster API call ${path} to ${this.addr} timed out`)),
            timeoutMs,
          )
        : undefined;
    return { stream, timer: { cancel: () => clearTimeout(handle) } };
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const { rootCAPem, certPem, keyPem, servername } = this.tls;
    const session = connect(`https://${this.addr}`, {
      ca: rootCAPem,
      cert: certPem,
      key: keyPem,
      servername,
      rejectUnauthorized: rootCAPem !== undefined,
      minVersion: "TLSv1.2",
    });
    // Failures surface on the requests; without a listener an error event would crash the daemon.
    session.on("error", () => undefined);
    session.once("close", () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }
}

/** Resolves with the response's status, or rejects when the stream fails first. */
function responseStatus(stream: ClientHttp2Stream): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown) => reject(asTransportError(err));
    const onClose = () =>
      reject(unavailable(`stream closed (code ${stream.rstCode ?? constants.NGHTTP2_NO_ERROR})`));
    stream.once("error", onError);
    stream.once("close", onClose);
    stream.once("response", (headers) => {
      stream.off("error", onError);
      stream.off("close", onClose);
      stream.on("error", () => undefined); // later failures surface on the body reader
      resolve(Number(headers[":status"]));
    });
  });
}

function asTransportError(err: unknown): ShoalError {
  if (err instanceof ShoalError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ShoalError(ErrorCode.Unavailable, `cluster API unreachable: ${message}`, { cause: err });
}

function decodeReply(status: number, text: string): unknown {
  let body: unknown;
  try {
    body = text === "" ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new ShoalError(ErrorCode.Internal, `malformed reply (status ${status})`);
  }
  if (status === 200) return body;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code =
    typeof error?.code === "string" && CODES.has(error.code) ? (error.code as ErrorCode) : ErrorCode.Internal;
  throw new ShoalError(code, typeof error?.message === "string" ? error.message : `status ${status}`);
}

/** The promise, or Unavailable after `ms` (then `onTimeout` cleans up whatever was waiting). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let handle: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    handle = setTimeout(() => {
      onTimeout();
      reject(unavailable(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(handle);
  }
}
