/**
 * Forgetting the UDP flows of backends that are gone (pure planning, plus a small driver). A UDP
 * flow never ends by itself: conntrack keeps a client that keeps its source port (a resolver, a
 * syslog, VPN or game client) on the backend it first got for as long as it keeps sending, even
 * once that task is gone or its port unpublished, so its datagrams go nowhere until it pauses
 * for the UDP timeout (30 s, 120 s once answered). Deleting the entry makes its next datagram a new
 * flow, balanced over the backends that are left (or refused). kube-proxy does the same for its
 * UDP services. TCP is left alone: its connections end, and a draining task finishes the ones it
 * has. On a single node dockerd already deletes the flows of a container it removes; across nodes
 * only the node that forwarded the flow holds it, and a VIP's flows live in the client's netns.
 */
import type { Logger } from "../../base/index.ts";
import type { MeshPlan } from "./mesh.ts";
import type { VipBackends } from "./plan.ts";

const DELETE_UDP = ["conntrack", "-D", "-p", "udp"];

/**
 * The deletions (argv) for the mesh's UDP flows of backends and ports `after` dropped, and of the
 * udp ports that get backends again (none before, or newly published): a datagram that came while
 * a port had no backend made an entry without DNAT, and a client that keeps sending would keep it,
 * refused, however many tasks start.
 */
export function staleMeshFlows(before: MeshPlan | undefined, after: MeshPlan | undefined): string[][] {
  const served = (plan: MeshPlan | undefined, port: number) =>
    plan?.rules.some((r) => r.protocol === "udp" && r.port === port && r.backends.length > 0);
  const revived = (after?.rules ?? [])
    .filter((r) => r.protocol === "udp" && r.backends.length > 0 && before && !served(before, r.port))
    .map((r) => [...DELETE_UDP, "--orig-port-dst", String(r.port)]);
  const kept = new Set(
    (after?.rules ?? [])
      .filter((r) => r.protocol === "udp")
      .flatMap((r) => r.backends.map((b) => `${r.port}>${b}`)),
  );
  const out: string[][] = [];
  for (const r of before?.rules ?? []) {
    if (r.protocol !== "udp") continue;
    for (const b of r.backends) {
      if (kept.has(`${r.port}>${b}`)) continue;
      const [addr = "", port = ""] = b.split(":");
      out.push([
        ...DELETE_UDP,
        "--orig-port-dst",
        String(r.port),
        "--reply-src",
        addr,
        "--reply-port-src",
        port,
      ]);
    }
  }
  return [...out, ...revived];
}

/**
 * The deletions (argv) for a container's UDP flows to VIP backends `after` dropped, and to VIPs
 * that get backends again (their refused flows have no DNAT, as for the mesh's ports).
 */
export function staleVipFlows(before: readonly VipBackends[], after: readonly VipBackends[]): string[][] {
  const kept = new Set(after.flatMap((v) => v.backends.map((b) => `${v.vip}>${b}`)));
  const revived = after
    .filter((v) => v.backends.length > 0 && before.some((b) => b.vip === v.vip && b.backends.length === 0))
    .map((v) => [...DELETE_UDP, "--orig-dst", v.vip]);
  const gone = before.flatMap((v) =>
    v.backends
      .filter((b) => !kept.has(`${v.vip}>${b}`))
      .map((b) => [...DELETE_UDP, "--orig-dst", v.vip, "--reply-src", b]),
  );
  return [...gone, ...revived];
}

/** The error of a run whose program is missing (spawn's ENOENT, or nsenter's message). */
const missingProgram = (err: unknown): boolean =>
  /ENOENT|No such file or directory/.test(err instanceof Error ? err.message : String(err));

/**
 * Runs deletions; `conntrack -D` fails when it finds nothing, which is the common case (no
 * client had a flow there), so that is logged at debug. Without the conntrack program (Debian's
 * `conntrack` package) nothing is deleted: a warning, and the rest are not tried.
 */
export async function deleteFlows(
  cmds: readonly string[][],
  run: (cmd: readonly string[]) => Promise<string>,
  logger: Logger,
): Promise<void> {
  for (const cmd of cmds) {
    try {
      await run(cmd);
    } catch (err) {
      if (missingProgram(err)) {
        logger.warn({ err }, "conntrack is missing: UDP flows of gone backends stay until they time out");
        return;
      }
      logger.debug({ err, cmd: cmd.join(" ") }, "no UDP flow to forget");
    }
  }
}

/** The mesh's UDP flows on this node: remembers the plan last applied. */
export class MeshUdpFlows {
  private plan: MeshPlan | undefined;

  constructor(
    private readonly run: (cmd: readonly string[]) => Promise<string>,
    private readonly logger: Logger,
  ) {}

  /** After the mesh moved to `plan` (undefined: left): forgets what it dropped. */
  async moved(plan: MeshPlan | undefined): Promise<void> {
    const stale = staleMeshFlows(this.plan, plan);
    this.plan = plan;
    await deleteFlows(stale, this.run, this.logger);
  }
}
