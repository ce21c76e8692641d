import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { MemoryLogger, ShoalError } from "../base/index.ts";
import { EngineApiServer } from "./server.ts";
import { call, FakeNodeBackend, messageOf, startHarness } from "./testing/index.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "shoal-engineapi-life-"));
}

describe("EngineApiServer lifecycle", () => {
  it("serves a 0660 socket and optional TCP; stop() is idempotent and removes the socket", async () => {
    // gid 1 ("daemon") stands in for the docker group; chown to another group needs root.
    const gid = process.getuid?.() === 0 ? 1 : undefined;
    const h = await startHarness({ tcp: true, ...(gid !== undefined ? { socketGid: gid } : {}) });
    assert.equal(statSync(h.socketPath).mode & 0o777, 0o660);
    if (gid !== undefined) assert.equal(statSync(h.socketPath).gid, gid);
    const tcp = h.server.tcpAddress();
    assert.ok(tcp && tcp.port > 0);
    const pong = await new Promise<number>((resolve, reject) =>
      request({ host: tcp.host, port: tcp.port, path: "/_ping" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end(),
    );
    assert.equal(pong, 200);
    await Promise.all([h.server.stop(), h.server.stop()]);
    assert.throws(() => statSync(h.socketPath));
    await h.stop();
  });

  it("stop() closes hijacked connections", async () => {
    const h = await startHarness();
    const socket = connect({ path: h.socketPath });
    socket.on("error", () => {});
    socket.write(
      "POST /v1.41/containers/c/attach?stream=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await h.stop();
    await closed;
  });

  it("replaces a stale socket file and refuses a live one", async () => {
    const dir = tempDir();
    const socketPath = join(dir, "s.sock");
    const live = createServer();
    await new Promise<void>((resolve) => live.listen(socketPath, resolve));
    const opts = { socketPath, backend: new FakeNodeBackend(), logger: new MemoryLogger() };
    const refused = new EngineApiServer(opts);
    await assert.rejects(refused.start(), (e: unknown) => ShoalError.is(e, "FailedPrecondition"));
    await refused.stop();
    assert.ok(statSync(socketPath).isSocket(), "a failed start must leave the other server's socket alone");
    await new Promise<void>((resolve) => live.close(() => resolve()));
    // A daemon killed with -9 leaves its socket file behind.
    const crashed = spawn(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => console.log("up"))`,
    ]);
    await new Promise((resolve) => crashed.stdout.once("data", resolve));
    crashed.kill("SIGKILL");
    await new Promise((resolve) => crashed.once("exit", resolve));
    assert.ok(statSync(socketPath).isSocket());
    const server = new EngineApiServer(opts);
    await server.start();
    assert.equal((await call(socketPath, "GET", "/_ping")).body, "OK");
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 502 naming dockerd's socket when it is unreachable", async () => {
    const dir = tempDir();
    const socketPath = join(dir, "s.sock");
    const missing = join(dir, "no-dockerd.sock");
    const server = new EngineApiServer({
      socketPath,
      dockerSocket: missing,
      backend: new FakeNodeBackend(),
      logger: new MemoryLogger(),
    });
    await server.start();
    const a = await call(socketPath, "GET", "/v1.41/containers/json");
    assert.equal(a.status, 502);
    assert.equal(a.headers["content-type"], "application/json");
    assert.match(messageOf(a), new RegExp(`cannot reach the local dockerd at ${missing}`));
    const socket = connect({ path: socketPath });
    socket.write(
      "POST /v1.41/containers/c/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
    );
    let text = "";
    socket.on("data", (c: Buffer) => {
      text += c.toString();
    });
    await new Promise((resolve) => socket.on("close", resolve));
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    // `docker version` still says what it is talking to.
    const version = JSON.parse((await call(socketPath, "GET", "/version")).body) as {
      Platform: { Name: string };
    };
    assert.match(version.Platform.Name, /^shoal /);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
