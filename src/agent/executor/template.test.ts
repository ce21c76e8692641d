import assert from "node:assert/strict";
import { test } from "node:test";
import { normalizeImage } from "./image.ts";
import { expandTemplate, type TemplateContext } from "./template.ts";

const ctx: TemplateContext = {
  Service: { ID: "serviceID", Name: "serviceName", Labels: { b: "2", a: "1", "com.example.x": "y" } },
  Node: { ID: "nodeID", Hostname: "host1", Platform: { Architecture: "x86_64", OS: "linux" } },
  Task: { ID: "taskID", Name: "serviceName.10.taskID", Slot: "10" },
};

const ok: Array<[string, string]> = [
  ["plain", "plain"],
  ["{{.Service.ID}}/{{.Service.Name}}", "serviceID/serviceName"],
  ["{{ .Task.ID }}.{{.Task.Name}}.{{.Task.Slot}}", "taskID.serviceName.10.taskID.10"],
  ["{{.Node.ID}}@{{.Node.Hostname}}", "nodeID@host1"],
  ["{{.Node.Platform.OS}}-{{.Node.Platform.Architecture}}", "linux-x86_64"],
  ["{{.Service.Labels}}", "map[a:1 b:2 com.example.x:y]"],
  ["{{.Service.Labels.a}}", "1"],
  ['{{index .Service.Labels "com.example.x"}}', "y"],
  ['{{index .Service.Labels "missing"}}', ""],
  ["{{range $k, $v := .Service.Labels}}{{$k}}={{$v}},{{end}}", "a=1,b=2,com.example.x=y,"],
  ["a  {{- .Task.Slot -}}  b", "a10b"],
  ["x{{/* note */}}y", "xy"],
];
for (const [input, want] of ok) {
  test(`expands ${input}`, () => assert.equal(expandTemplate(input, ctx), want));
}

const bad: Array<[string, RegExp]> = [
  ["{{.Task.Labels}}", /can't evaluate field Labels/],
  ["{{.Service.Labels.nope}}", /can't evaluate field nope/],
  ["{{.Task.ID", /unclosed action/],
  ['{{printf "%s" .Task.ID}}', /unsupported action/],
  ["{{if .Task.ID}}x{{end}}", /unsupported action/],
  ["{{range $k, $v := .Service.Labels}}x", /missing \{\{end\}\}/],
  ["x{{end}}", /unexpected \{\{end\}\}/],
  ["{{$k}}", /undefined variable/],
];
for (const [input, re] of bad) {
  test(`rejects ${input}`, () => assert.throws(() => expandTemplate(input, ctx), re));
}

const images: Array<[string, string]> = [
  ["busybox", "busybox:latest"],
  ["busybox:local", "busybox:local"],
  ["library/busybox:1", "busybox:1"],
  ["docker.io/library/busybox", "busybox:latest"],
  ["docker.io/me/app:2", "me/app:2"],
  ["localhost:5000/app", "localhost:5000/app:latest"],
  [`app:1@sha256:${"b".repeat(64)}`, `app:1@sha256:${"b".repeat(64)}`],
  [`sha256:${"c".repeat(64)}`, `sha256:${"c".repeat(64)}`],
];
for (const [input, want] of images) {
  test(`image ${input} → ${want}`, () => assert.equal(normalizeImage(input), want));
}
