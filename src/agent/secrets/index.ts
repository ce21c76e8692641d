/**
 * agent/secrets: the node's secrets and configs in memory (restricted per task) and the per-task
 * in-memory filesystem they are bind-mounted from.
 */
export { MemoryTaskFiles } from "./memory.ts";
export { AssignedPayloads, type TaskPayloadSource, type TaskPayloads } from "./payloads.ts";
export { DEFAULT_SECRETS_ROOT, mountTypeAt, TmpfsTaskFiles } from "./tmpfs.ts";
