/** Test doubles for engineapi's boundaries (not for production use). */
export { type Answer, call, messageOf } from "./client.ts";
export { FakeControlApi, FakeNodeBackend, NOT_A_MANAGER } from "./fake-backend.ts";
export { FakeDockerd, type Handler } from "./fake-dockerd.ts";
export { type Harness, startHarness } from "./harness.ts";
