/** `shoal stack ls | history NAME | rollback NAME [--to N]`, over /shoal/v1/stacks. */
import type { StackObjects } from "../stack/index.ts";
import { StackClient } from "./stack-client.ts";
import { type DeployOptions, deployObjects, waitIfAsked } from "./stack-deploy.ts";

interface Revision {
  Index: number;
  CreatedAt: string;
  Kind: string;
  RolledBackTo?: number;
  Files: string[];
  Objects: StackObjects;
}

interface StoredStack {
  Spec: { Name: string };
  Revisions?: Revision[];
}

interface StackSummary {
  Name: string;
  Revision: number;
  Revisions: number;
  UpdatedAt: string;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd(),
  );
}

export async function stackList(socket: string): Promise<string[]> {
  const stacks = await new StackClient(socket).ok<StackSummary[]>("GET", "/shoal/v1/stacks");
  return table([
    ["NAME", "REVISION", "REVISIONS KEPT", "UPDATED"],
    ...stacks.map((s) => [s.Name, String(s.Revision), String(s.Revisions), s.UpdatedAt]),
  ]);
}

async function getStack(client: StackClient, name: string): Promise<StoredStack> {
  const stack = await client.find<StoredStack>(`/shoal/v1/stacks/${encodeURIComponent(name)}`);
  if (!stack) throw new Error(`stack ${name} has no recorded revisions (deploy it with shoal stack deploy)`);
  return stack;
}

export async function stackHistory(socket: string, name: string): Promise<string[]> {
  const stack = await getStack(new StackClient(socket), name);
  const revs = stack.Revisions ?? [];
  const current = revs[revs.length - 1]?.Index;
  return table([
    ["REVISION", "CREATED", "KIND", "FILES", "SERVICES"],
    ...revs.map((r) => [
      `${r.Index}${r.Index === current ? " *" : ""}`,
      r.CreatedAt,
      r.Kind === "rollback" ? `rollback to ${r.RolledBackTo}` : r.Kind,
      r.Files.join(",") || "-",
      r.Objects.services.map((s) => s.name).join(","),
    ]),
  ]);
}

/** Re-deploys revision `to` (default: the one before the newest) and records it as a new revision. */
export async function stackRollback(
  socket: string,
  name: string,
  to: number | undefined,
  opts: DeployOptions,
): Promise<number> {
  const client = new StackClient(socket);
  const revs = (await getStack(client, name)).Revisions ?? [];
  const target = to === undefined ? revs[revs.length - 2] : revs.find((r) => r.Index === to);
  if (!target) {
    throw new Error(
      to === undefined
        ? `stack ${name} has no previous revision to roll back to`
        : `stack ${name} has no revision ${to} (kept: ${revs.map((r) => r.Index).join(", ")})`,
    );
  }
  opts.io.out(`Rolling back stack ${name} to revision ${target.Index}`);
  const names = await deployObjects(client, target.Objects, { ...opts, prune: true });
  const { Index } = await client.ok<{ Index: number }>("POST", `/shoal/v1/stacks/${name}/revisions`, {
    Kind: "rollback",
    RolledBackTo: target.Index,
    Files: target.Files,
    Objects: target.Objects,
  });
  opts.io.out(`Recorded revision ${Index} of stack ${name} (rollback to ${target.Index})`);
  await waitIfAsked(client, target.Objects, names, opts);
  return Index;
}
