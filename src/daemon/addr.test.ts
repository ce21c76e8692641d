import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveAddrs } from "./addr.ts";

const iface = (address: string, internal = false) => ({
  address,
  netmask: "255.255.255.0",
  family: "IPv4" as const,
  mac: "00:00:00:00:00:00",
  internal,
  cidr: `${address}/24`,
});

test("explicit IP, default port 2377", () => {
  const r = resolveAddrs(undefined, "127.0.0.1", {});
  assert.deepEqual(r, {
    advertiseAddr: "127.0.0.1",
    advertisePort: 2377,
    listenHost: "0.0.0.0",
    listenPort: 2377,
  });
});

test("IP with port and interface names", () => {
  assert.equal(resolveAddrs(undefined, "10.1.0.1:4500", {}).advertisePort, 4500);
  assert.equal(resolveAddrs(undefined, "eth0", { eth0: [iface("10.9.0.2")] }).advertiseAddr, "10.9.0.2");
});

test("no address: the single system address, or moby's error", () => {
  assert.equal(
    resolveAddrs(undefined, "", { lo: [iface("127.0.0.1", true)], eth0: [iface("10.0.0.5")] }).advertiseAddr,
    "10.0.0.5",
  );
  assert.throws(
    () => resolveAddrs(undefined, "", { eth0: [iface("10.0.0.5")], eth1: [iface("10.0.1.5")] }),
    /could not choose an IP address to advertise since this system has multiple addresses on different interfaces \(eth0 has 10.0.0.5 and eth1 has 10.0.1.5\)/,
  );
});
