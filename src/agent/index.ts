/** agent: the node side of the cluster: session with a dispatcher, task execution, status. */
export type { AgentDeps, TaskExecutor } from "./agent.ts";
export { Agent } from "./agent.ts";
export { AssignedTasks, StatusReporter } from "./worker.ts";
