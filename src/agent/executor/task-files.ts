/**
 * The executor's port to the per-task in-memory filesystem for secrets and configs (interfaces
 * belong to the consumer; `agent/secrets/` implements it).
 */
/** One secret or config file in a task's in-memory directory. */
export interface TaskFile {
  /** File name inside the task's directory (a plain name, no slashes). */
  name: string;
  data: Buffer;
  uid: number;
  gid: number;
  mode: number;
}

/**
 * The per-task in-memory filesystem that secrets and configs are bind-mounted from (implemented in
 * `agent/secrets/`; a fake for simulations). Data written here never touches a disk-backed path.
 */
export interface TaskFilesystem {
  /** The host directory holding the task's files (bind-mount sources live under it). */
  dirOf(taskId: string): string;
  /** Creates the task's in-memory directory afresh and writes the files, then makes it read-only. */
  write(taskId: string, files: readonly TaskFile[]): Promise<void>;
  /** Unmounts and deletes the task's directory; nothing happens when there is none. */
  remove(taskId: string): Promise<void>;
}
