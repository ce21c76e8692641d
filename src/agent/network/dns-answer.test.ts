import assert from "node:assert/strict";
import { test } from "node:test";
import * as dnsPacket from "dns-packet";
import type { NetworkPeers } from "../../api/index.ts";
import { lookup, rotate } from "./dns-answer.ts";
import { answerPacket, hostNameservers } from "./dns-server.ts";

const peers: NetworkPeers = {
  services: [
    { ID: "s1", Name: "api", Mode: "vip", VirtualIPs: [{ NetworkID: "n1", Addr: "10.0.1.2/24" }] },
    { ID: "s2", Name: "db", Mode: "dnsrr", VirtualIPs: [] },
    { ID: "s4", Name: "other", Mode: "vip", VirtualIPs: [{ NetworkID: "n2", Addr: "10.0.2.2/24" }] },
  ],
  tasks: [
    { ID: "a", ServiceID: "s1", NodeID: "x", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.4/24" }] },
    { ID: "b", ServiceID: "s1", NodeID: "y", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.3/24" }] },
    { ID: "c", ServiceID: "s2", NodeID: "x", Addresses: [{ NetworkID: "n1", Addr: "10.0.1.7/24" }] },
  ],
};
const n1 = new Set(["n1"]);

test("<service> is its VIP; tasks.<service> its task addresses; case and trailing dot ignored", () => {
  assert.deepEqual(lookup(peers, n1, "api", "A"), { kind: "answer", addresses: ["10.0.1.2"] });
  assert.deepEqual(lookup(peers, n1, "API.", "A"), { kind: "answer", addresses: ["10.0.1.2"] });
  assert.deepEqual(lookup(peers, n1, "tasks.api", "A"), {
    kind: "answer",
    addresses: ["10.0.1.3", "10.0.1.4"],
  });
});

test("dnsrr services resolve to their tasks; AAAA of a known name is empty, not forwarded", () => {
  assert.deepEqual(lookup(peers, n1, "db", "A"), { kind: "answer", addresses: ["10.0.1.7"] });
  assert.deepEqual(lookup(peers, n1, "api", "AAAA"), { kind: "answer", addresses: [] });
});

test("only services on a shared network answer; others are forwarded", () => {
  assert.deepEqual(lookup(peers, n1, "other", "A"), { kind: "forward" });
  assert.deepEqual(lookup(peers, new Set(["n2"]), "other", "A"), { kind: "answer", addresses: ["10.0.2.2"] });
  assert.deepEqual(lookup(peers, n1, "example.com", "A"), { kind: "forward" });
  assert.deepEqual(lookup(undefined, n1, "api", "A"), { kind: "forward" });
});

test("a network alias (a stack's short name) answers like the name, on its own network only", () => {
  const aliased: NetworkPeers = {
    ...peers,
    services: peers.services.map((sv) =>
      sv.ID === "s1"
        ? {
            ...sv,
            VirtualIPs: [...sv.VirtualIPs, { NetworkID: "n3", Addr: "10.0.3.2/24" }],
            Aliases: [{ NetworkID: "n1", Alias: "web" }],
          }
        : sv,
    ),
  };
  const both = new Set(["n1", "n3"]);
  assert.deepEqual(lookup(aliased, both, "web", "A"), { kind: "answer", addresses: ["10.0.1.2"] });
  assert.deepEqual(lookup(aliased, both, "tasks.web", "A"), {
    kind: "answer",
    addresses: ["10.0.1.3", "10.0.1.4"],
  });
  // the name itself still answers on both networks, the alias not where it is not declared
  assert.deepEqual(lookup(aliased, both, "api", "A"), {
    kind: "answer",
    addresses: ["10.0.1.2", "10.0.3.2"],
  });
  assert.deepEqual(lookup(aliased, new Set(["n3"]), "web", "A"), { kind: "forward" });
});

test("tasks that are not serving (starting, draining) are no answers, but keep the name known", () => {
  const quiet: NetworkPeers = {
    ...peers,
    tasks: peers.tasks.map((t) => (t.ServiceID === "s2" || t.ID === "a" ? { ...t, Serving: false } : t)),
  };
  assert.deepEqual(lookup(quiet, n1, "tasks.api", "A"), { kind: "answer", addresses: ["10.0.1.3"] });
  assert.deepEqual(lookup(quiet, n1, "db", "A"), { kind: "answer", addresses: [] });
});

test("answerPacket: a response to the query's id and question with one A record per address", () => {
  const query = dnsPacket.decode(
    dnsPacket.encode({
      type: "query",
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "A", name: "tasks.api" }],
    }),
  );
  const reply = dnsPacket.decode(
    answerPacket(query, { kind: "answer", addresses: ["10.0.1.3", "10.0.1.4"] }),
  );
  assert.equal(reply.id, 4242);
  assert.equal(reply.type, "response");
  assert.deepEqual(
    reply.answers?.map((a) => [a.type, a.name, "data" in a ? a.data : undefined]),
    [
      ["A", "tasks.api", "10.0.1.3"],
      ["A", "tasks.api", "10.0.1.4"],
    ],
  );
});

test("hostNameservers reads resolv.conf", () => {
  assert.deepEqual(hostNameservers("# x\nnameserver 10.255.255.53\nsearch a\nnameserver 1.1.1.1\n"), [
    "10.255.255.53",
    "1.1.1.1",
  ]);
});

test("rotate: each turn starts one address later, so clients taking the first spread over all", () => {
  const a = ["10.0.1.3", "10.0.1.4", "10.0.1.7"];
  assert.deepEqual(rotate(a, 0), a);
  assert.deepEqual(rotate(a, 1), ["10.0.1.4", "10.0.1.7", "10.0.1.3"]);
  assert.deepEqual(rotate(a, 5), ["10.0.1.7", "10.0.1.3", "10.0.1.4"]);
  assert.deepEqual(
    [0, 1, 2].map((t) => rotate(a, t)[0]),
    a,
  );
  assert.deepEqual(rotate(["10.0.1.2"], 7), ["10.0.1.2"]);
  assert.deepEqual(rotate([], 3), []);
});
