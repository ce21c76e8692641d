import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { failedPrecondition } from "../base/index.ts";

/** From /proc/<pid>/stat: the process state and its start time (clock ticks since boot). */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields from the state on (field 3); the start time is field 22.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", start: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

/**
 * Whether the daemon that wrote the pid file still runs. Pids are reused (pid_max is 32768 on
 * small machines, and every thread of every short-lived CLI takes one), so the pid must also have
 * the start time recorded with it. A zombie (killed, not yet reaped) holds its pid but is dead.
 */
function alive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(pid);
  if (!stat) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  return start === undefined || stat.start === start;
}

/**
 * One daemon per data dir: a pid file created exclusively, holding the pid and its start time. A
 * pid file left by a dead process (kill -9) is taken over, also when its pid now names another
 * process; one held by the live daemon refuses the start.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "shoal.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid} ${procStat(process.pid)?.start ?? ""}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const [pidText = "", start] = readFileSync(path, "utf8").trim().split(" ");
      const pid = Number.parseInt(pidText, 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid, start || undefined)) {
        throw failedPrecondition(
          `another shoal daemon (pid ${pid}) is already running with data dir ${dataDir}`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw failedPrecondition(`could not lock data dir ${dataDir}`);
}
