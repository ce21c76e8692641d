/** A TaskFilesystem in memory, for simulations and unit tests: what was written, per task. */
import type { TaskFile, TaskFilesystem } from "../executor/task-files.ts";

export class MemoryTaskFiles implements TaskFilesystem {
  readonly tasks = new Map<string, readonly TaskFile[]>();

  constructor(private readonly root = "/run/shoal/secrets") {}

  dirOf(taskId: string): string {
    return `${this.root}/${taskId}`;
  }

  async write(taskId: string, files: readonly TaskFile[]): Promise<void> {
    this.tasks.set(
      taskId,
      files.map((f) => ({ ...f, data: Buffer.from(f.data) })),
    );
  }

  async remove(taskId: string): Promise<void> {
    this.tasks.delete(taskId);
  }
}
