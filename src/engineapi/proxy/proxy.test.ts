import assert from "node:assert/strict";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  call,
  FakeControlApi,
  type Harness,
  messageOf,
  NOT_A_MANAGER,
  startHarness,
} from "../testing/index.ts";

/** Resolves when `socket` has received data matching `pattern`; returns everything read so far. */
function readUntil(socket: Socket, pattern: RegExp, seen: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(seen.text)) {
        socket.off("data", onData);
        resolve(seen.text);
      }
    };
    const onData = (c: Buffer) => {
      seen.text += c.toString("latin1");
      check();
    };
    socket.on("data", onData);
    socket.once("error", reject);
    check();
  });
}

function hijackRequest(body: string): string {
  return (
    "POST /v1.41/exec/abc/start HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" +
    `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  );
}

describe("proxy to dockerd", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.stop());

  it("forwards paths unchanged and keeps status, status text and duplicate headers", async () => {
    h.dockerd.handler = (_req, res) => {
      res.writeHead(418, "Short And Stout", ["X-Dup", "a", "X-Dup", "b", "Content-Type", "text/x-tea"]);
      res.end("brewed");
    };
    for (const path of ["/v1.41/containers/json?all=1", "/containers/json", "/v1.99/images/json"]) {
      const a = await call(h.socketPath, "GET", path);
      assert.equal(h.dockerd.requests.at(-1)?.url, path);
      assert.equal(a.status, 418);
      assert.equal(a.body, "brewed");
      assert.deepEqual(
        a.rawHeaders.filter((_, i) => a.rawHeaders[i - 1] === "X-Dup"),
        ["a", "b"],
      );
      assert.equal(a.headers["content-type"], "text/x-tea");
    }
  });

  it("streams the response: chunks arrive before the upstream finishes, chunked encoding kept", async () => {
    let release: () => void = () => {};
    h.dockerd.handler = (_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"status":"first"}\n');
      release = () => res.end('{"status":"last"}\n');
    };
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) =>
      request({ socketPath: h.socketPath, path: "/v1.41/events", agent: false }, resolve)
        .on("error", reject)
        .end(),
    );
    assert.equal(res.headers["transfer-encoding"], "chunked");
    const first = await new Promise<string>((resolve) =>
      res.once("data", (c: Buffer) => resolve(c.toString())),
    );
    assert.equal(first, '{"status":"first"}\n');
    let rest = "";
    res.on("data", (c: Buffer) => {
      rest += c.toString();
    });
    const ended = new Promise((resolve) => res.on("end", resolve));
    release();
    await ended;
    assert.equal(rest, '{"status":"last"}\n');
  });

  it("streams the request body: dockerd sees the first part before the client sends the rest", async () => {
    let firstPart: (text: string) => void = () => {};
    const sawFirst = new Promise<string>((resolve) => {
      firstPart = resolve;
    });
    h.dockerd.handler = (req, res) => {
      let all = "";
      req.on("data", (c: Buffer) => {
        all += c.toString();
        firstPart(all);
      });
      req.on("end", () => res.end(`got ${all.length}`));
    };
    const req = request({
      socketPath: h.socketPath,
      method: "PUT",
      path: "/v1.41/containers/x/archive?path=/tmp",
      headers: { "Content-Type": "application/x-tar", "Transfer-Encoding": "chunked" },
      agent: false,
    });
    const answer = new Promise<string>((resolve) =>
      req.on("response", (res) => {
        let b = "";
        res.on("data", (c: Buffer) => {
          b += c.toString();
        });
        res.on("end", () => resolve(b));
      }),
    );
    req.write("part-one;");
    assert.equal(await sawFirst, "part-one;");
    req.end("part-two");
    assert.equal(await answer, "got 17");
  });

  it("aborts the upstream request when the client goes away", async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      upstreamClosed = resolve;
    });
    h.dockerd.handler = (_req, res) => {
      res.writeHead(200);
      res.write("log line\n");
      res.on("close", () => upstreamClosed());
    };
    const req = request({
      socketPath: h.socketPath,
      path: "/v1.41/containers/x/logs?follow=1",
      agent: false,
    });
    req.on("response", (res) => res.once("data", () => req.destroy()));
    req.on("error", () => {});
    req.end();
    await closed;
  });

  it("splices hijacked connections, body included, and half-closes correctly", async () => {
    const body = '{"Detach":false,"Tty":false}';
    const socket = connect({ path: h.socketPath, allowHalfOpen: true });
    const seen = { text: "" };
    // The body is split across writes: its tail reaches shoal after node signalled the upgrade.
    socket.write(hijackRequest(body) + body.slice(0, 5));
    await readUntil(socket, /ready\n/, seen);
    assert.match(seen.text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    socket.write(`${body.slice(5)}stdin data`);
    await readUntil(socket, /STDIN DATA/, seen);
    assert.ok(seen.text.endsWith(`ready\n${body.toUpperCase()}STDIN DATA`), seen.text);
    // Half-close: we are done writing but still read what comes back.
    socket.end();
    await readUntil(socket, /bye\n$/, seen);
    await new Promise((resolve) => socket.on("close", resolve));
    assert.equal(h.dockerd.hijacks.at(-1)?.url, "/v1.41/exec/abc/start");
    assert.ok(h.dockerd.hijacks.at(-1)?.rawHeaders.includes("Upgrade"));
  });

  it("forwards non-overlay network creation to dockerd with its body; overlay stays in shoal", async () => {
    h.dockerd.handler = (req, res) => {
      let b = "";
      req.on("data", (c: Buffer) => {
        b += c.toString();
      });
      req.on("end", () => {
        res.writeHead(201, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ Id: "n1", Warning: "", echoed: b }));
      });
    };
    const bridge = JSON.stringify({ Name: "nb", Driver: "bridge", CheckDuplicate: true });
    const a = await call(h.socketPath, "POST", "/v1.41/networks/create", { body: bridge });
    assert.equal(a.status, 201);
    assert.equal((JSON.parse(a.body) as { echoed: string }).echoed, bridge);
    assert.equal(h.dockerd.requests.at(-1)?.url, "/v1.41/networks/create");

    // No body at all: the (empty) request stream itself is forwarded.
    const empty = await call(h.socketPath, "POST", "/v1.41/networks/create");
    assert.equal(empty.status, 201);
    assert.equal((JSON.parse(empty.body) as { echoed: string }).echoed, "");

    const count = h.dockerd.requests.length;
    const overlay = JSON.stringify({ Name: "ov", Driver: "overlay" });
    const off = await call(h.socketPath, "POST", "/v1.41/networks/create", { body: overlay });
    assert.equal(off.status, 503);
    assert.equal(messageOf(off), NOT_A_MANAGER);
    h.backend.manager = new FakeControlApi();
    const on = await call(h.socketPath, "POST", "/networks/create", { body: overlay });
    h.backend.manager = undefined;
    assert.ok(on.status !== 503, `status ${on.status}`);
    // Only the name check (moby refuses a name a local network has) reached dockerd.
    assert.equal(h.dockerd.requests.length, count + 1);
    assert.match(h.dockerd.requests.at(-1)?.url ?? "", /^\/v1\.41\/networks\?filters=/);
  });
});
