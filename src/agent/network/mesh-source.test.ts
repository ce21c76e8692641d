import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetworkPeers } from "../../api/index.ts";
import { addressNumber, parseSourceRules, routeBatch, sourceChains, sourceRoutes } from "./mesh-source.ts";
import { vipRuleset } from "./plan.ts";

const peers = {
  services: [],
  tasks: [],
  mesh: {
    Network: { ID: "ingress", Spec: { Name: "ingress", Ingress: true } },
    services: [],
    nodes: [
      { ID: "n2", Addr: "172.16.5.2", IngressAddr: "10.0.0.4/24" },
      { ID: "n1", Addr: "172.16.5.1", IngressAddr: "10.0.0.3/24" },
    ],
  },
} satisfies NetworkPeers;

test("sourceRoutes: one per mesh node, marked with its ingress address, behind its bridge MAC", () => {
  assert.equal(addressNumber("10.0.0.3"), 0x0a000003);
  assert.deepEqual(sourceRoutes(peers), [
    { mac: "02:42:0a:00:00:03", mark: 0x0a000003, via: "10.0.0.3" },
    { mac: "02:42:0a:00:00:04", mark: 0x0a000004, via: "10.0.0.4" },
  ]);
  assert.deepEqual(sourceRoutes(undefined), []);
});

test("sourceChains in the container's VIP table: mark new connections by MAC, reroute replies", () => {
  assert.deepEqual(sourceChains([]), []);
  const script = vipRuleset([], sourceChains(sourceRoutes(peers)));
  assert.equal(
    script,
    [
      "add table ip shoal_vip",
      "delete table ip shoal_vip",
      "table ip shoal_vip {",
      "  chain out {",
      "    type nat hook output priority -100; policy accept;",
      "  }",
      "  chain mesh_mark {",
      "    type filter hook prerouting priority mangle; policy accept;",
      "    ct state new ct mark set ether saddr map { 02:42:0a:00:00:03 : 0x0a000003, 02:42:0a:00:00:04 : 0x0a000004 }",
      "    ct mark != 0 meta mark set ct mark",
      "  }",
      "  chain mesh_route {",
      "    type route hook output priority mangle; policy accept;",
      "    ct mark != 0 meta mark set ct mark",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
});

test("parseSourceRules: shoal's rules only (mark = table)", () => {
  const listing = [
    "100:\tfrom all fwmark 0xa000003 lookup 167772163 ",
    "100:\tfrom all fwmark 0x1 lookup 100 ",
    "32766:\tfrom all lookup main ",
  ].join("\n");
  assert.deepEqual(parseSourceRules(listing), [167772163]);
});

test("routeBatch: routes replaced, rules added when missing, removed when their node left", () => {
  const routes = sourceRoutes(peers);
  assert.equal(
    routeBatch([], routes),
    [
      "route replace default via 10.0.0.3 table 167772163",
      "rule add pref 100 fwmark 0x0a000003 lookup 167772163",
      "route replace default via 10.0.0.4 table 167772164",
      "rule add pref 100 fwmark 0x0a000004 lookup 167772164",
      "",
    ].join("\n"),
  );
  assert.equal(
    routeBatch([167772163, 167772165], routes.slice(0, 1)),
    [
      "rule del pref 100 fwmark 0x0a000005 lookup 167772165",
      "route replace default via 10.0.0.3 table 167772163",
      "",
    ].join("\n"),
  );
  assert.equal(routeBatch([], []), "");
});
