import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { failedPrecondition } from "../base/index.ts";

/** A zombie (killed, not yet reaped by its parent) holds its pid but runs no more: it is dead. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !zombie(pid);
}

/**
 * One daemon per data dir: a pid file created exclusively. A pid file left by a dead process (kill
 * -9) is taken over; one held by a live process refuses the start.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "shoal.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw failedPrecondition(
          `another shoal daemon (pid ${pid}) is already running with data dir ${dataDir}`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw failedPrecondition(`could not lock data dir ${dataDir}`);
}
