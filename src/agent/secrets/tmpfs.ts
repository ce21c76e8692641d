/**
 * The real per-task in-memory filesystem, as moby's `setupSecretDir`: a tmpfs per task under a
 * root (default /run/shoal/secrets/<task id>), mounted `nodev,nosuid,noexec`, mode 0700, owned by
 * root; each file written with its reference's uid, gid and mode; then remounted read-only. The
 * directory is checked to be a tmpfs mount point before any byte is written, so payloads can never
 * land on a disk-backed path. Removal unmounts and deletes it.
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { internal } from "../../base/index.ts";
import type { TaskFile, TaskFilesystem } from "../executor/task-files.ts";

const run = promisify(execFile);

export const DEFAULT_SECRETS_ROOT = "/run/shoal/secrets";
/** Room beyond the payloads themselves (inodes, rounding). */
const SIZE_MARGIN = 1024 * 1024;

/** /proc/self/mountinfo escapes spaces and friends as octal. */
const unescapeOctal = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** The filesystem type mounted exactly at `dir`, or undefined (the last mount there wins). */
export function mountTypeAt(mountinfo: string, dir: string): string | undefined {
  let found: string | undefined;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    const point = left?.split(" ")[4];
    if (point !== undefined && unescapeOctal(point) === dir) found = right?.split(" ")[0];
  }
  return found;
}

export class TmpfsTaskFiles implements TaskFilesystem {
  constructor(private readonly root = DEFAULT_SECRETS_ROOT) {}

  dirOf(taskId: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(taskId))
      throw internal(`invalid task ID for a secrets directory: ${taskId}`);
    return join(this.root, taskId);
  }

  async write(taskId: string, files: readonly TaskFile[]): Promise<void> {
    const dir = this.dirOf(taskId);
    await this.remove(taskId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const size = files.reduce((n, f) => n + f.data.length, 0) + SIZE_MARGIN;
    await run("mount", ["-t", "tmpfs", "-o", `nodev,nosuid,noexec,mode=0700,size=${size}`, "tmpfs", dir]);
    if ((await this.typeAt(dir)) !== "tmpfs") {
      throw internal(`refusing to write secrets: ${dir} is not a tmpfs mount point`);
    }
    for (const f of files) {
      if (f.name.includes("/")) throw internal(`invalid secret file name ${f.name}`);
      const path = join(dir, f.name);
      await writeFile(path, f.data, { mode: f.mode & 0o7777, flag: "wx" });
      await chown(path, f.uid, f.gid);
      await chmod(path, f.mode & 0o7777);
    }
    await run("mount", ["-o", "remount,ro,nodev,nosuid,noexec", dir]);
  }

  async remove(taskId: string): Promise<void> {
    const dir = this.dirOf(taskId);
    // Several mounts may be stacked after a crash between mount and remove: peel them all.
    for (let i = 0; i < 8 && (await this.typeAt(dir)) !== undefined; i++) {
      await run("umount", [dir]);
    }
    await rm(dir, { recursive: true, force: true });
  }

  private async typeAt(dir: string): Promise<string | undefined> {
    return mountTypeAt(await readFile("/proc/self/mountinfo", "utf8"), dir);
  }
}
