import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { parseStdcopyFrames, StdcopyWriter, StdStream, stdcopyFrame } from "./stdcopy.ts";

describe("stdcopy framing", () => {
  it("frames as [stream][0 0 0][uint32 BE length][payload]", () => {
    const frame = stdcopyFrame(StdStream.Stderr, Buffer.from("hello-err\n"));
    assert.deepEqual([...frame.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 10]);
    assert.equal(frame.subarray(8).toString(), "hello-err\n");
  });

  it("writes one line per frame, adding a final newline", async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    const w = new StdcopyWriter(out);
    await w.write(StdStream.Stdout, "a\nbb\nccc");
    await w.writeSystemError("Error grabbing logs: boom");
    const frames = parseStdcopyFrames(Buffer.concat(chunks));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.payload.toString()]),
      [
        [1, "a\n"],
        [1, "bb\n"],
        [1, "ccc\n"],
        [3, "Error grabbing logs: boom\n"],
      ],
    );
  });

  it("waits for drain under backpressure", async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    const w = new StdcopyWriter(out);
    let done = false;
    const p = w.write(StdStream.Stdout, "x".repeat(100)).then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    out.resume();
    await p;
    assert.equal(done, true);
  });

  it("ignores a truncated trailing frame when decoding", () => {
    const full = stdcopyFrame(StdStream.Stdout, Buffer.from("ok\n"));
    assert.equal(parseStdcopyFrames(Buffer.concat([full, full.subarray(0, 5)])).length, 1);
  });
});
