import assert from "node:assert/strict";
import { test } from "node:test";
import type { SwarmTask } from "../../api/index.ts";
import { drainPeriodMs, servesTraffic } from "./drain.ts";

const base: SwarmTask = { ID: "t1", ServiceAnnotations: { Name: "web" } };
const onNetwork = {
  ...base,
  NetworksAttachments: [{ Network: { ID: "n1" }, Addresses: ["10.0.0.3/24"] }],
} as unknown as SwarmTask;
const withPorts = (mode?: "ingress" | "host"): SwarmTask => ({
  ...base,
  Endpoint: { Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: mode }] },
});
const labelled = (t: SwarmTask, value: string): SwarmTask => ({
  ...t,
  ServiceAnnotations: { Name: "web", Labels: { "io.shoal.drain-period": value } },
});

test("a task serves traffic when it is on a network or publishes through the mesh", () => {
  assert.equal(servesTraffic(base), false);
  assert.equal(servesTraffic(onNetwork), true);
  assert.equal(servesTraffic(withPorts("ingress")), true);
  assert.equal(servesTraffic(withPorts()), true, "ingress is the default publish mode");
  assert.equal(servesTraffic(withPorts("host")), false, "host-mode ports are in no load balancer");
});

test("the drain period: 0 for a task that serves nothing, else the label or the default", () => {
  assert.equal(drainPeriodMs(base), 0);
  assert.equal(drainPeriodMs(labelled(base, "10s")), 0);
  assert.equal(drainPeriodMs(onNetwork), 3000);
  assert.equal(drainPeriodMs(labelled(onNetwork, "10s")), 10_000);
  assert.equal(drainPeriodMs(labelled(onNetwork, "250ms")), 250);
  assert.equal(drainPeriodMs(labelled(onNetwork, "0s")), 0);
  assert.equal(drainPeriodMs(labelled(withPorts(), "1m")), 60_000);
  // refused by the manager today; one stored before that check still drains
  assert.equal(drainPeriodMs(labelled(onNetwork, "later")), 3000);
});
