import { request } from "node:http";

/** A minimal Engine API client over a unix socket, for the `shoal` commands. */
export interface EngineResponse {
  status: number;
  body: unknown;
}

export function engineRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<EngineResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload ? { "Content-Type": "application/json", "Content-Length": payload.length } : {},
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (e.g. /_ping's "OK"): keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`request ${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export function errorMessage(res: EngineResponse): string {
  const body = res.body as { message?: string } | string | undefined;
  if (body && typeof body === "object" && body.message) return body.message;
  return `HTTP ${res.status}${typeof body === "string" && body ? `: ${body}` : ""}`;
}
