import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../base/index.ts";

/**
 * An etcd started by a daemon that was killed with -9 keeps running (nothing tells it its parent
 * died) and holds the data dir. Before starting our member we stop any etcd whose command line
 * names our etcd data dir.
 */
export async function killStaleEtcd(etcdDataDir: string, logger: Logger): Promise<void> {
  const stale: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const args = cmdline.split("\0");
    if (!args[0]?.endsWith("etcd")) continue;
    if (args.some((a) => a === etcdDataDir || a === `--data-dir=${etcdDataDir}`)) stale.push(Number(entry));
  }
  for (const pid of stale) {
    logger.warn({ pid, dataDir: etcdDataDir }, "stopping an etcd left behind by a previous daemon");
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && stale.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
