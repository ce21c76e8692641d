/**
 * Docker's `stdcopy` multiplexing for non-TTY log streams: each frame is
 * `[stream:1][0,0,0][length:uint32 BE][payload]`. The CLI's pretty printer treats each payload as
 * one line, so the writer emits exactly one `\n`-terminated line per frame.
 */
import type { Writable } from "node:stream";

export const StdStream = { Stdin: 0, Stdout: 1, Stderr: 2, SystemErr: 3 } as const;
export type StdStream = (typeof StdStream)[keyof typeof StdStream];

const HEADER_LENGTH = 8;

/** One frame around `payload` (no line splitting). */
export function stdcopyFrame(stream: StdStream, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits `text` into lines, each ending in `\n` (a missing final newline is added). */
function lines(text: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, start)) {
    out.push(text.subarray(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(Buffer.concat([text.subarray(start), Buffer.from("\n")]));
  return out;
}

/** Writes log lines to a response (or any Writable) in stdcopy frames, honouring backpressure. */
export class StdcopyWriter {
  private readonly out: Writable;

  constructor(out: Writable) {
    this.out = out;
  }

  /** Frames every line of `data`; resolves once the destination can take more. */
  async write(stream: StdStream, data: string | Buffer): Promise<void> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    let ok = true;
    for (const line of lines(buf)) ok = this.out.write(stdcopyFrame(stream, line)) && ok;
    if (!ok && !this.out.destroyed) await onceDrainOrClose(this.out);
  }

  /** moby reports failures after the headers went out in-band, on the system-error stream. */
  writeSystemError(message: string): Promise<void> {
    return this.write(StdStream.SystemErr, message);
  }
}

function onceDrainOrClose(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.on("drain", done);
    out.on("close", done);
  });
}

/** Decodes a complete multiplexed buffer (tests and clients); a truncated tail is ignored. */
export function parseStdcopyFrames(buf: Buffer): Array<{ stream: number; payload: Buffer }> {
  const frames: Array<{ stream: number; payload: Buffer }> = [];
  let offset = 0;
  while (offset + HEADER_LENGTH <= buf.length) {
    const length = buf.readUInt32BE(offset + 4);
    const end = offset + HEADER_LENGTH + length;
    if (end > buf.length) break;
    frames.push({ stream: buf.readUInt8(offset), payload: buf.subarray(offset + HEADER_LENGTH, end) });
    offset = end;
  }
  return frames;
}
