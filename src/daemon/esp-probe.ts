/**
 * Does this machine's kernel do IPsec ESP (what `--opt encrypted` overlays need)? Asked the honest
 * way: install an ESP security association, with the AEAD Docker's overlay driver uses, in a
 * throwaway network namespace. A kernel without ESP answers "Requested type not found" (or, without
 * xfrm at all, fails earlier). The answer is computed once per daemon.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { Logger } from "../base/index.ts";

function run(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((done) => {
    execFile("ip", args, { timeout: 10_000 }, (err, _stdout, stderr) =>
      done({ ok: !err, stderr: String(stderr) }),
    );
  });
}

async function probe(logger: Logger): Promise<boolean> {
  if (!existsSync("/proc/net/xfrm_stat")) {
    logger.info({}, "kernel has no xfrm (IPsec): encrypted overlay networks are refused");
    return false;
  }
  const ns = `shoal-esp-probe-${process.pid}`;
  const created = await run(["netns", "add", ns]);
  if (!created.ok) {
    logger.warn(
      { err: created.stderr.trim() },
      "cannot create a netns to probe ESP; encrypted overlays refused",
    );
    return false;
  }
  try {
    const key = `0x${"01".repeat(20)}`;
    const sa = await run([
      ...["-n", ns, "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2"],
      ...["proto", "esp", "spi", "0x100", "reqid", "1", "mode", "transport"],
      ...["aead", "rfc4106(gcm(aes))", key, "128"],
    ]);
    logger.info({ esp: sa.ok, detail: sa.stderr.trim() }, "probed kernel IPsec ESP support");
    return sa.ok;
  } finally {
    await run(["netns", "del", ns]);
  }
}

/** A cached probe: the first call runs it, later calls share the answer. */
export function espProbe(logger: Logger): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () => {
    answer ??= probe(logger).catch(() => false);
    return answer;
  };
}
