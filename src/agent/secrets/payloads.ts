/**
 * The node's secrets and configs, held in memory only (never on disk, never in the agent's state),
 * folded from assignment messages (SwarmKit's `agent/secrets/secrets.go`). Each task sees only the
 * payloads its own spec references (`secrets.Restrict`).
 */
import type { AssignedPayload, AssignmentMessage, Task } from "../../api/index.ts";

/** The payloads one task may read; anything its spec does not reference is invisible. */
export interface TaskPayloads {
  secret(id: string): Buffer | undefined;
  config(id: string): Buffer | undefined;
}

/** Where the executor gets each task's restricted view. */
export interface TaskPayloadSource {
  forTask(task: Task): TaskPayloads;
}

type Held = Map<string, Buffer>;

function fold(held: Held, complete: boolean, added: AssignedPayload[] = [], removed: string[] = []): void {
  if (complete) held.clear();
  for (const id of removed) held.delete(id);
  for (const p of added) held.set(p.ID, Buffer.from(p.Data, "base64"));
}

export class AssignedPayloads implements TaskPayloadSource {
  private readonly secrets: Held = new Map();
  private readonly configs: Held = new Map();

  /** Applies a message's secret and config changes (a complete message replaces everything). */
  apply(msg: AssignmentMessage): void {
    const complete = msg.kind === "complete";
    fold(this.secrets, complete, msg.secrets, msg.removedSecrets);
    fold(this.configs, complete, msg.configs, msg.removedConfigs);
  }

  /** A view restricted to the IDs the task's spec references. */
  forTask(task: Task): TaskPayloads {
    const c = task.Spec?.ContainerSpec;
    const secretIds = new Set((c?.Secrets ?? []).map((r) => r.SecretID));
    const configIds = new Set((c?.Configs ?? []).map((r) => r.ConfigID));
    return {
      secret: (id) => (secretIds.has(id) ? this.secrets.get(id) : undefined),
      config: (id) => (configIds.has(id) ? this.configs.get(id) : undefined),
    };
  }

  /** How many of each are held (for logs and tests; never the contents). */
  get counts(): { secrets: number; configs: number } {
    return { secrets: this.secrets.size, configs: this.configs.size };
  }
}
