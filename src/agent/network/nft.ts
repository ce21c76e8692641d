/** The thin nft driver: loads a script into a process's network namespace (host binaries). */
import { spawn } from "node:child_process";

/** `nsenter --net=/proc/<pid>/ns/net nft -f -` with the script on stdin. */
export function loadRuleset(pid: number, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/proc/${pid}/ns/net`, "nft", "-f", "-"], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`nft in netns of pid ${pid} failed (${code}): ${stderr.trim()}`)),
    );
    child.stdin.end(script);
  });
}
