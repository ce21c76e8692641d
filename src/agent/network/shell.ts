/** The thin `ip`/`bridge` driver for VXLAN devices and their static entries (host binaries). */
import { execFile } from "node:child_process";

/** Runs one command; rejects with its stderr. */
export function run(cmd: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd[0]!, cmd.slice(1), { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd.join(" ")}: ${stderr.toString().trim() || err.message}`));
      else resolve(stdout.toString());
    });
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
