/**
 * A fake dockerd on a temporary unix socket: a node http server whose handler each test sets, plus
 * a hijack (upgrade) handler that answers `101 UPGRADED` and echoes the raw stream back upper-cased,
 * as dockerd's attach/exec would carry a container's output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Duplex } from "node:stream";

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export class FakeDockerd {
  readonly dir = mkdtempSync(join(tmpdir(), "shoal-fake-dockerd-"));
  readonly socketPath = join(this.dir, "docker.sock");
  /** Every plain request seen: method, url, raw headers. */
  readonly requests: Array<{ method: string; url: string; rawHeaders: string[] }> = [];
  /** Hijacked requests seen. */
  readonly hijacks: Array<{ url: string; rawHeaders: string[] }> = [];
  handler: Handler = (_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"fake":true}');
  };
  private readonly server: Server = createServer((req, res) => {
    this.requests.push({ method: req.method ?? "", url: req.url ?? "", rawHeaders: req.rawHeaders });
    this.handler(req, res);
  });

  async start(): Promise<void> {
    this.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Echo protocol: `101`, then `ready\n`, then every byte after the request head (body included)
   * upper-cased; on EOF from the client, `bye\n` and FIN.
   */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.hijacks.push({ url: req.url ?? "", rawHeaders: req.rawHeaders });
    socket.on("error", () => {}); // the client side may vanish mid-test; nothing to report
    socket.write(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nready\n",
    );
    const echo = (chunk: Buffer) => socket.write(chunk.toString().toUpperCase());
    for (let c = req.read() as Buffer | null; c !== null; c = req.read() as Buffer | null) echo(c);
    if (head.length > 0) echo(head);
    socket.on("data", echo);
    socket.on("end", () => socket.end("bye\n"));
  }
}
