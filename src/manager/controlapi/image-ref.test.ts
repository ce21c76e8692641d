import assert from "node:assert/strict";
import { test } from "node:test";
import { isValidImageReference } from "./image-ref.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

test("image references as distribution/reference parses them", () => {
  const valid = [
    "busybox",
    "busybox:latest",
    "library/busybox:1.36.1",
    "127.0.0.1:5000/team/app:latest",
    `127.0.0.1:5000/team/app:latest@${DIGEST}`,
    `busybox@${DIGEST}`,
    "localhost/app",
    "registry.example.com:5000/a/b-c__d.e",
    "MyRegistry/app",
    "[::1]:5000/app:v1",
  ];
  const invalid = [
    "",
    "BusyBox",
    "busybox:",
    ":latest",
    "a//b",
    "app:bad tag",
    "app@sha256:short",
    "-app",
    "ab".repeat(32),
  ];
  for (const ref of valid) assert.equal(isValidImageReference(ref), true, ref);
  for (const ref of invalid) assert.equal(isValidImageReference(ref), false, ref);
});
