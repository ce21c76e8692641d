/**
 * The `shoal` command. The one error boundary of the CLI: a failure prints one line and sets the
 * exit code. Commands load their modules lazily so `shoal --help` stays fast.
 */
import { Command, Option } from "commander";
import { ShoalError } from "./base/index.ts";
import type { UpFlags } from "./cli/up-options.ts";

// `shoal up | head` closes our stdout early: that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const program = new Command("shoal")
  .description("A Docker Swarm compatible container orchestrator")
  .showHelpAfterError();

program
  .command("daemon")
  .description("run the shoal node daemon (Engine API for the docker CLI, manager and agent)")
  .option("--data-dir <dir>", "where the node keeps its state", "/var/lib/shoal")
  .option(
    "--engine-socket <path>",
    "unix socket of the Engine API served to the docker CLI",
    "/run/shoal/docker.sock",
  )
  .option("--engine-tcp <host:port>", "also serve the Engine API on this TCP address (no TLS: loopback only)")
  .option("--docker <endpoint>", "the local dockerd", "unix:///var/run/docker.sock")
  .option(
    "--advertise-addr <addr>",
    "address advertised to other nodes (default: the one given to swarm init/join)",
  )
  .option("--listen-addr <addr>", "cluster API listen address", "0.0.0.0:2377")
  .addOption(
    new Option("--log-level <level>", "log level")
      .choices(["debug", "info", "warn", "error"])
      .default("info"),
  )
  .action(async (opts: Record<string, string>) => {
    const { runDaemon } = await import("./daemon/index.ts");
    await runDaemon({
      dataDir: opts.dataDir as string,
      engineSocket: opts.engineSocket as string,
      engineTcp: opts.engineTcp,
      docker: opts.docker as string,
      advertiseAddr: opts.advertiseAddr,
      listenAddr: opts.listenAddr as string,
      logLevel: opts.logLevel as "info",
    });
  });

program
  .command("up")
  .description(
    "start a local multi-node cluster on this machine (a network namespace per node, each with its own dockerd and shoal daemon) running a demo stack, and print how to use it; reuses a cluster that is already up",
  )
  .option("--name <name>", "cluster name: hostnames are <name>-node<i>", "shoal")
  .option("--nodes <n>", "number of nodes (default 3, or the running cluster's)")
  .option("--managers <n>", "how many of the nodes are managers (default 1, or the running cluster's)")
  .option(
    "--load-image <image>",
    "copy an image from this machine's dockerd into every node (repeatable)",
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option("--no-demo", "do not deploy the demo stack (examples/demo-stack.yml)")
  .option("--timeout <seconds>", "how long the demo stack may take to converge", "180")
  .action(async (opts: UpFlags) => {
    const [{ up }, { parseUpFlags }] = await Promise.all([
      import("./cli/up.ts"),
      import("./cli/up-options.ts"),
    ]);
    await up(parseUpFlags(opts), {
      out: (l) => process.stdout.write(`${l}\n`),
      err: (l) => process.stderr.write(`${l}\n`),
    });
  });

program
  .command("down")
  .description("remove a local cluster made by shoal up: its processes, namespaces, network and state")
  .option("--name <name>", "the cluster", "shoal")
  .option("--all", "every cluster made by shoal up")
  .action(async (opts: { name: string; all?: boolean }) => {
    const [{ down }, { checkName }] = await Promise.all([
      import("./cli/down.ts"),
      import("./cli/up-options.ts"),
    ]);
    down(
      { name: checkName(opts.name), all: opts.all },
      { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
    );
  });

/** The Engine API socket: DOCKER_HOST when it is a unix socket, else shoal's default. */
function engineSocket(given: string | undefined): string {
  if (given) return given;
  const host = process.env.DOCKER_HOST ?? "";
  return host.startsWith("unix://") ? host.slice("unix://".length) : "/run/shoal/docker.sock";
}

program
  .command("secret")
  .description("secrets beyond what the docker CLI offers")
  .command("rotate")
  .description(
    "create the next version of a secret (NAME.v2, NAME.v3, ...) from FILE or - (stdin) and move every service using it over with a rolling update, same target/uid/gid/mode",
  )
  .argument("<name>", "the secret (any version of it)")
  .argument("<file>", "file with the new data, or - for standard input")
  .option("--engine-socket <path>", "Engine API socket (default: DOCKER_HOST, else /run/shoal/docker.sock)")
  .action(async (name: string, file: string, opts: Record<string, string | undefined>) => {
    const { rotateSecret } = await import("./cli/secret-rotate.ts");
    const result = await rotateSecret({ socket: engineSocket(opts.engineSocket), name, source: file });
    process.stdout.write(`${result.secretName} ${result.secretId}\n`);
    for (const service of result.services) process.stdout.write(`updated service ${service}\n`);
  });

const stack = program
  .command("stack")
  .description("stacks with history: deploy compose files, history, rollback");
const hostOption = () =>
  new Option(
    "-H, --host <unix://path>",
    "Engine API socket (default: DOCKER_HOST, else /run/shoal/docker.sock)",
  );
const hostOf = (host: string | undefined) => engineSocket(host?.replace(/^unix:\/\//, ""));
const io = {
  out: (l: string) => process.stdout.write(`${l}\n`),
  err: (l: string) => process.stderr.write(`${l}\n`),
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

stack
  .command("deploy")
  .description("deploy compose files as docker stack deploy does, record a revision, optionally wait")
  .argument("<name>", "the stack")
  .requiredOption("-c, --compose-file <file>", "compose file (repeat to merge several, in order)", collect)
  .option("--prune", "remove services no longer in the files")
  .option("--wait", "wait until every service converged (running, healthy); exit 1 if one does not")
  .option("--timeout <seconds>", "how long --wait and depends_on waits may take", "300")
  .addOption(
    new Option("--resolve-image <when>", "pin images to their registry digest")
      .choices(["always", "changed", "never"])
      .default("always"),
  )
  .addOption(hostOption())
  .action(
    async (
      name: string,
      opts: {
        composeFile: string[];
        prune?: boolean;
        wait?: boolean;
        timeout: string;
        resolveImage: "always" | "changed" | "never";
        host?: string;
      },
    ) => {
      const { stackDeploy } = await import("./cli/stack-deploy.ts");
      await stackDeploy(hostOf(opts.host), opts.composeFile, name, {
        prune: opts.prune,
        wait: opts.wait,
        timeoutMs: Number(opts.timeout) * 1000,
        resolveImage: opts.resolveImage,
        io,
      });
    },
  );

stack
  .command("ls")
  .description("stacks deployed with shoal stack deploy, with their newest revision")
  .addOption(hostOption())
  .action(async (opts: { host?: string }) => {
    const { stackList } = await import("./cli/stack-history.ts");
    for (const line of await stackList(hostOf(opts.host))) io.out(line);
  });

stack
  .command("history")
  .description("the recorded revisions of a stack (newest marked *)")
  .argument("<name>", "the stack")
  .addOption(hostOption())
  .action(async (name: string, opts: { host?: string }) => {
    const { stackHistory } = await import("./cli/stack-history.ts");
    for (const line of await stackHistory(hostOf(opts.host), name)) io.out(line);
  });

stack
  .command("rollback")
  .description("re-deploy a recorded revision (default: the previous one) and record it as a new one")
  .argument("<name>", "the stack")
  .option("--to <revision>", "the revision to restore")
  .option("--wait", "wait until every service converged")
  .option("--timeout <seconds>", "how long --wait may take", "300")
  .addOption(hostOption())
  .action(async (name: string, opts: { to?: string; wait?: boolean; timeout: string; host?: string }) => {
    const { stackRollback } = await import("./cli/stack-history.ts");
    const to = opts.to === undefined ? undefined : Number(opts.to);
    await stackRollback(hostOf(opts.host), name, to, {
      wait: opts.wait,
      timeoutMs: Number(opts.timeout) * 1000,
      io,
    });
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof ShoalError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`shoal: ${message}\n`);
  process.exitCode = 1;
});
