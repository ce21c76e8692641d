import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { newShape, parseUpFlags, shapeMismatch, summaryLines, type UpFlags } from "./up-options.ts";

const flags = (f: Partial<UpFlags> = {}): UpFlags => ({
  name: "shoal",
  loadImage: [],
  demo: true,
  timeout: "180",
  ...f,
});

describe("shoal up flags", () => {
  test("defaults: 3 nodes, 1 manager; given flags win; never more managers than nodes", () => {
    assert.deepEqual(newShape(parseUpFlags(flags())), { nodes: 3, managers: 1 });
    assert.deepEqual(newShape(parseUpFlags(flags({ nodes: "5", managers: "3" }))), { nodes: 5, managers: 3 });
    assert.deepEqual(newShape(parseUpFlags(flags({ nodes: "1" }))), { nodes: 1, managers: 1 });
    assert.deepEqual(newShape(parseUpFlags(flags({ managers: "5" }))), { nodes: 5, managers: 5 });
  });

  test("a replaced cluster keeps its shape unless the flags change it", () => {
    const previous = { nodes: 5, managers: 3 };
    assert.deepEqual(newShape(parseUpFlags(flags()), previous), { nodes: 5, managers: 3 });
    assert.deepEqual(newShape(parseUpFlags(flags({ nodes: "2" })), previous), { nodes: 2, managers: 2 });
    assert.deepEqual(newShape(parseUpFlags(flags({ managers: "1" })), previous), { nodes: 5, managers: 1 });
  });

  test("bad values name the flag", () => {
    const bad: Array<[Partial<UpFlags>, RegExp]> = [
      [{ nodes: "0" }, /--nodes must be a whole number from 1 to 50, got "0"/],
      [{ nodes: "2.5" }, /--nodes/],
      [{ nodes: "x" }, /--nodes/],
      [{ managers: "0" }, /--managers/],
      [{ nodes: "2", managers: "3" }, /--managers \(3\) cannot exceed --nodes \(2\)/],
      [{ timeout: "-1" }, /--timeout/],
      [{ name: "Bad_Name" }, /--name "Bad_Name"/],
      [{ loadImage: ["busybox:local", "no spaces"] }, /--load-image "no spaces"/],
    ];
    for (const [f, re] of bad) assert.throws(() => parseUpFlags(flags(f)), re, JSON.stringify(f));
  });

  test("--load-image is repeatable and deduplicated", () => {
    const r = parseUpFlags(flags({ loadImage: ["a:1", "b", "a:1"] }));
    assert.deepEqual(r.loadImages, ["a:1", "b"]);
  });

  test("a running cluster of another shape is refused only for the flags actually given", () => {
    const existing = { nodes: 3, managers: 1 };
    assert.equal(shapeMismatch(parseUpFlags(flags()), existing), undefined);
    assert.equal(shapeMismatch(parseUpFlags(flags({ nodes: "3" })), existing), undefined);
    const msg = shapeMismatch(parseUpFlags(flags({ nodes: "5", managers: "3" })), existing);
    assert.match(msg ?? "", /already up with 3 nodes and 1 manager, not --nodes 5 --managers 3/);
    assert.match(msg ?? "", /run "shoal down" first/);
    const other = shapeMismatch(parseUpFlags(flags({ name: "dev", managers: "2" })), existing);
    assert.match(other ?? "", /shoal down --name dev/);
  });
});

describe("shoal up summary", () => {
  const base = {
    name: "shoal",
    nodes: [
      {
        hostname: "shoal-node1",
        addr: "172.16.9.1",
        role: "manager (leader)",
        socket: "/tmp/shc9/n1/shoal.sock",
      },
      { hostname: "shoal-node2", addr: "172.16.9.2", role: "worker", socket: "/tmp/shc9/n2/shoal.sock" },
    ],
    dockerHost: "unix:///var/lib/shoal/devcluster/shoal/docker.sock",
    logs: "/tmp/shc9/logs",
    seconds: 21.37,
    reused: false,
  };

  test("every node with its address, DOCKER_HOST on a line of its own, how to remove it", () => {
    const lines = summaryLines(base);
    assert.equal(lines[0], 'Cluster "shoal" is up (created, 21.4 s):');
    assert.ok(
      lines.some((l) =>
        /^ {2}shoal-node1 +172\.16\.9\.1 +manager \(leader\) +unix:\/\/\/tmp\/shc9\/n1/.test(l),
      ),
    );
    assert.ok(lines.some((l) => /^ {2}shoal-node2 +172\.16\.9\.2 +worker /.test(l)));
    assert.ok(lines.includes("DOCKER_HOST=unix:///var/lib/shoal/devcluster/shoal/docker.sock"));
    assert.equal(lines.at(-1), "Remove it: ./bin/shoal down");
    assert.ok(!lines.some((l) => l.includes("stack services")), "no demo, no demo hints");
  });

  test("the demo's URL, and a note when it does not answer", () => {
    const answering = summaryLines({ ...base, demo: { url: "http://172.16.9.1:8080/", answers: true } });
    assert.ok(answering.some((l) => l.startsWith("  curl http://172.16.9.1:8080/")));
    assert.ok(answering.some((l) => l.includes("docker stack services demo")));
    assert.ok(!answering.some((l) => l.includes("did not answer")));
    const silent = summaryLines({ ...base, demo: { url: "http://172.16.9.1:8080/", answers: false } });
    assert.ok(silent.some((l) => l.includes("http://172.16.9.1:8080/ did not answer")));
  });

  test("another name is named in the down command", () => {
    assert.equal(summaryLines({ ...base, name: "dev" }).at(-1), "Remove it: ./bin/shoal down --name dev");
  });
});
