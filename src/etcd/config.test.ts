import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultEtcdMemberConfig, etcdArgs, peerUrlOf } from "./config.ts";
import { canRemoveMember, initialClusterOf } from "./membership.ts";

describe("etcd peer TLS arguments", () => {
  const base = { ...defaultEtcdMemberConfig("n1", "/d"), peerPort: 2380, clientPort: 2379 };

  test("without TLS, peers speak http and no TLS flag is passed", () => {
    const args = etcdArgs(base);
    assert.ok(args.includes("--listen-peer-urls=http://127.0.0.1:2380"));
    assert.ok(!args.some((a) => a.startsWith("--peer-")));
  });

  test("with TLS, peer URLs are https and client certificates are required", () => {
    const c = {
      ...base,
      peerListenAddress: "10.9.0.2",
      peerAdvertiseAddress: "10.9.0.2",
      peerTls: { certFile: "/c", keyFile: "/k", trustedCAFile: "/ca", allowedHostname: "swarm-manager" },
    };
    const args = etcdArgs(c);
    assert.equal(peerUrlOf(c), "https://10.9.0.2:2380");
    for (const a of [
      "--listen-peer-urls=https://10.9.0.2:2380",
      "--initial-advertise-peer-urls=https://10.9.0.2:2380",
      "--initial-cluster=n1=https://10.9.0.2:2380",
      "--peer-cert-file=/c",
      "--peer-key-file=/k",
      "--peer-trusted-ca-file=/ca",
      "--peer-client-cert-auth",
      "--peer-cert-allowed-hostname=swarm-manager",
      "--listen-client-urls=http://127.0.0.1:2379",
    ])
      assert.ok(args.includes(a), `${a} missing from ${args.join(" ")}`);
  });

  test("pre-vote is on, so a member that comes back from a partition does not depose the leader", () => {
    assert.ok(etcdArgs(base).includes("--pre-vote"));
  });

  test("--force-new-cluster only when asked", () => {
    assert.ok(!etcdArgs(base).includes("--force-new-cluster"));
    assert.ok(etcdArgs({ ...base, forceNewCluster: true }).includes("--force-new-cluster"));
  });

  test("IPv6 peer addresses are bracketed", () => {
    assert.equal(
      peerUrlOf({ peerAdvertiseAddress: "fd00::1", peerPort: 2380, peerTls: undefined }),
      "http://[fd00::1]:2380",
    );
  });
});

describe("membership helpers", () => {
  test("initial cluster names the newcomer, which etcd lists without a name", () => {
    const members = [
      { id: "1", name: "a", peerUrls: ["https://10.0.0.1:2380"] },
      { id: "2", name: "", peerUrls: ["https://10.0.0.2:2380"] },
    ];
    assert.equal(
      initialClusterOf(members, "b", "https://10.0.0.2:2380"),
      "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380",
    );
    assert.equal(
      initialClusterOf(members.slice(0, 1), "b", "https://10.0.0.2:2380"),
      "a=https://10.0.0.1:2380,b=https://10.0.0.2:2380",
    );
  });

  test("SwarmKit's quorum rule for removals", () => {
    const m = (id: string, reachable: boolean) => ({ id, reachable });
    assert.equal(canRemoveMember([m("a", true)], "a"), false, "last member");
    assert.equal(canRemoveMember([m("a", true), m("b", true)], "a"), true);
    assert.equal(canRemoveMember([m("a", true), m("b", false)], "a"), false);
    assert.equal(canRemoveMember([m("a", true), m("b", true), m("c", false)], "a"), false);
    assert.equal(canRemoveMember([m("a", true), m("b", true), m("c", false)], "c"), true);
    assert.equal(canRemoveMember([m("a", true), m("b", true), m("c", true)], "a"), true);
    assert.equal(canRemoveMember([m("a", false), m("b", true), m("c", true), m("d", false)], "a"), true);
  });
});
