import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeCredentials } from "../ca/index.ts";
import { caSyncDecision, keepTrust, withTrust } from "./ca-sync.ts";

const creds: NodeCredentials = { certPem: "C", keyPem: "K", rootCAPem: "R1" };

describe("caSyncDecision", () => {
  test("no rotation: nothing changes", () => {
    assert.deepEqual(caSyncDecision(creds, { rootCA: "R1", rotate: false }), {
      rootChanged: false,
      renew: false,
    });
    // An old manager that does not send roots changes nothing either.
    assert.deepEqual(caSyncDecision(creds, { rotate: false }), { rootChanged: false, renew: false });
  });

  test("a rotation: trust the new root as well; renew when told", () => {
    assert.deepEqual(caSyncDecision(creds, { rootCA: "R1", nextRootCA: "R2", rotate: true }), {
      trust: { rootCAPem: "R1", nextRootCAPem: "R2" },
      rootChanged: false,
      renew: true,
    });
    const trusting = { ...creds, nextRootCAPem: "R2" };
    assert.deepEqual(caSyncDecision(trusting, { rootCA: "R1", nextRootCA: "R2", rotate: false }), {
      rootChanged: false,
      renew: false,
    });
  });

  test("finished: the new root replaces the old one", () => {
    const trusting = { ...creds, nextRootCAPem: "R2" };
    assert.deepEqual(caSyncDecision(trusting, { rootCA: "R2", rotate: false }), {
      trust: { rootCAPem: "R2" },
      rootChanged: true,
      renew: false,
    });
    assert.deepEqual(withTrust(trusting, { rootCAPem: "R2" }), {
      certPem: "C",
      keyPem: "K",
      rootCAPem: "R2",
    });
  });
});

test("renewed credentials keep the roots the node trusts", () => {
  const trusting = { ...creds, nextRootCAPem: "R2" };
  assert.deepEqual(keepTrust(trusting, { ...creds, certPem: "C2" }), { ...trusting, certPem: "C2" });
  // A renewal answered just before the rotation finished names the old root: the adopted one stays.
  const adopted = { ...creds, rootCAPem: "R2" };
  assert.deepEqual(keepTrust(adopted, { certPem: "C3", keyPem: "K3", rootCAPem: "R1" }), {
    certPem: "C3",
    keyPem: "K3",
    rootCAPem: "R2",
  });
});
