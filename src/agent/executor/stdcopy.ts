/**
 * Docker's stdcopy framing for non-TTY log streams: `[stream:1][0,0,0][length:u32be][payload]`, with
 * stream 1 = stdout, 2 = stderr. A TTY container's stream is raw bytes, split here at newlines.
 */
import type { LogLine } from "./types.ts";

const HEADER = 8;

/** Incremental decoder: feed chunks, get the complete frames seen so far. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly tty = false) {}

  push(chunk: Buffer): LogLine[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return this.tty ? this.lines() : this.frames();
  }

  /** Whatever is left when the stream ends (a TTY's last line without a newline). */
  flush(): LogLine[] {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return this.tty && rest.length ? [{ stream: "stdout", line: rest }] : [];
  }

  private frames(): LogLine[] {
    const out: LogLine[] = [];
    while (this.buf.length >= HEADER) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < HEADER + size) break;
      const kind = this.buf[0];
      const payload = this.buf.subarray(HEADER, HEADER + size);
      this.buf = this.buf.subarray(HEADER + size);
      if (kind === 1 || kind === 2) out.push({ stream: kind === 2 ? "stderr" : "stdout", line: payload });
    }
    return out;
  }

  private lines(): LogLine[] {
    const out: LogLine[] = [];
    for (let nl = this.buf.indexOf(10); nl >= 0; nl = this.buf.indexOf(10)) {
      out.push({ stream: "stdout", line: this.buf.subarray(0, nl + 1) });
      this.buf = this.buf.subarray(nl + 1);
    }
    return out;
  }
}
