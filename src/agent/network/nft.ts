/** The thin nft driver: loads a script into a network namespace (host binaries). */
import { spawn } from "node:child_process";

/** `nsenter --net=/proc/<pid>/ns/net nft -f -` with the script on stdin. */
export function loadRuleset(pid: number, script: string): Promise<void> {
  return nft(["nsenter", `--net=/proc/${pid}/ns/net`, "nft", "-f", "-"], script, `netns of pid ${pid}`);
}

/** `nft -f -` in the daemon's own netns (the node's: the routing mesh). */
export function loadNodeRuleset(script: string): Promise<void> {
  return nft(["nft", "-f", "-"], script, "the node's netns");
}

function nft(argv: readonly string[], script: string, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? "nft", argv.slice(1), {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`nft in ${where} failed (${code}): ${stderr.trim()}`)),
    );
    // nft exiting early (say, not installed) closes the pipe: the exit code or spawn error tells
    child.stdin.on("error", () => undefined);
    child.stdin.end(script);
  });
}
