import assert from "node:assert/strict";
import { test } from "node:test";
import { dataPlaneWarnings, MESH_WARNING } from "./data-plane-warnings.ts";

test("ingress ports are flagged; host-mode ports and overlay networks are not", () => {
  assert.deepEqual(dataPlaneWarnings({ Name: "a" }), []);
  assert.deepEqual(
    dataPlaneWarnings({
      Name: "a",
      EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080, PublishMode: "host" }] },
    }),
    [],
  );
  assert.deepEqual(dataPlaneWarnings({ Name: "a", EndpointSpec: { Ports: [{ TargetPort: 80 }] } }), [
    MESH_WARNING,
  ]);
  assert.deepEqual(dataPlaneWarnings({ Name: "a", TaskTemplate: { Networks: [{ Target: "n1" }] } }), []);
});
