/**
 * Newline-delimited JSON over HTTP/2 streams, with backpressure: one JSON value per line.
 */
import type { Readable, Writable } from "node:stream";
import { invalidArgument } from "../base/index.ts";

/** Parses each line of a byte stream as JSON; ends when the stream ends, throws if it fails. */
export async function* readNdjson(source: Readable, maxLineBytes = 16 * 1024 * 1024): AsyncIterable<unknown> {
  let buffered = "";
  for await (const chunk of source) {
    buffered += typeof chunk === "string" ? chunk : (chunk as Buffer).toString("utf8");
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() !== "") yield parseLine(line);
      nl = buffered.indexOf("\n");
    }
    if (buffered.length > maxLineBytes) throw invalidArgument("ndjson line too long");
  }
  if (buffered.trim() !== "") yield parseLine(buffered);
}

/** Writes one value as a line; resolves when the stream can take more. */
export function writeNdjson(sink: Writable, value: unknown): Promise<void> {
  if (sink.destroyed || sink.writableEnded) return Promise.reject(new Error("stream closed"));
  const ok = sink.write(`${JSON.stringify(value)}\n`);
  if (ok) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      sink.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      sink.off("drain", onDrain);
      reject(new Error("stream closed"));
    };
    sink.once("drain", onDrain);
    sink.once("close", onClose);
  });
}

/** Reads a whole body, refusing more than `limit` bytes. */
export async function readBody(source: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) throw invalidArgument("request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw invalidArgument("malformed ndjson line");
  }
}
