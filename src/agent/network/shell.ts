/**
 * The thin `ip`/`bridge`/`iptables` driver for VXLAN devices, their static entries and the mesh,
 * in the node's netns or a container's (host binaries).
 */
import { execFile, spawn } from "node:child_process";

/** Runs one command; rejects with its stderr. */
export function run(cmd: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd[0]!, cmd.slice(1), { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd.join(" ")}: ${stderr.toString().trim() || err.message}`));
      else resolve(stdout.toString());
    });
  });
}

/** Runs one command in the netns of `pid` with `input` on stdin; rejects with its stderr. */
export function runIn(pid: number, cmd: readonly string[], input?: string): Promise<string> {
  const argv = [`--net=/proc/${pid}/ns/net`, ...cmd];
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", argv, {
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // a command that exits before reading its input closes the pipe: its exit code tells
    child.stdin?.on("error", () => undefined);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd.join(" ")} in netns of pid ${pid} (${code}): ${stderr.trim()}`));
    });
    child.stdin?.end(input);
  });
}

/** True when a link of that name exists. */
export async function linkExists(name: string): Promise<boolean> {
  try {
    await run(["ip", "link", "show", "dev", name]);
    return true;
  } catch {
    return false;
  }
}

/** True while a process of that pid exists (EPERM: it exists, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
