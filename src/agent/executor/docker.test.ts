import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../base/index.ts";
import { describeFromInfo } from "./describe.ts";
import { engineError, parseEvent, parseInspect } from "./docker.ts";
import { FrameDecoder } from "./stdcopy.ts";

test("dockerode errors are classified", () => {
  const cases: Array<[unknown, string, string]> = [
    [
      { statusCode: 404, json: { message: "No such container: x" } },
      ErrorCode.NotFound,
      "No such container: x",
    ],
    [{ statusCode: 409, json: { message: "name in use" } }, ErrorCode.Conflict, "name in use"],
    [{ statusCode: 400, json: { message: "invalid mount" } }, ErrorCode.InvalidArgument, "invalid mount"],
    [
      Object.assign(new Error("(HTTP code 500) server error - boom "), { statusCode: 500 }),
      ErrorCode.Internal,
      "boom",
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED /var/run/docker.sock"), { code: "ECONNREFUSED" }),
      ErrorCode.Unavailable,
      "cannot reach dockerd: connect ECONNREFUSED /var/run/docker.sock",
    ],
    [
      Object.assign(new Error("connect ENOENT /x.sock"), { code: "ENOENT" }),
      ErrorCode.Unavailable,
      "cannot reach dockerd: connect ENOENT /x.sock",
    ],
  ];
  for (const [raw, code, message] of cases) {
    const e = engineError(raw);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
  }
});

test("inspect JSON is narrowed", () => {
  const c = parseInspect({
    Id: "abc",
    Name: "/web.1.t1",
    State: {
      Status: "running",
      Pid: 7,
      ExitCode: 0,
      Error: "",
      OOMKilled: false,
      Health: { Status: "starting" },
    },
    Config: { Labels: { a: "b" } },
  });
  assert.deepEqual(c, {
    id: "abc",
    name: "web.1.t1",
    state: "running",
    exitCode: 0,
    pid: 7,
    error: "",
    oomKilled: false,
    health: "starting",
    labels: { a: "b" },
  });
  assert.equal(parseInspect({ State: { Status: "exited" } }).health, "none");
});

test("events are narrowed; exec and unlabelled events dropped", () => {
  const attrs = { "com.docker.swarm.task.id": "t1", name: "web.1.t1", exitCode: "3" };
  assert.deepEqual(
    parseEvent({ Type: "container", Action: "die", Actor: { ID: "c", Attributes: attrs }, timeNano: 5 }),
    {
      action: "die",
      containerId: "c",
      name: "web.1.t1",
      taskId: "t1",
      timeNano: 5,
      exitCode: 3,
    },
  );
  assert.equal(
    parseEvent({
      Type: "container",
      Action: "health_status: unhealthy",
      Actor: { ID: "c", Attributes: attrs },
    })?.health,
    "unhealthy",
  );
  assert.equal(
    parseEvent({ Type: "container", Action: "exec_start: sh -c true", Actor: { ID: "c", Attributes: attrs } })
      ?.action,
    "other",
  );
  assert.equal(
    parseEvent({ Type: "container", Action: "die", Actor: { ID: "c", Attributes: { name: "x" } } }),
    undefined,
  );
  assert.equal(parseEvent({ Type: "network", Action: "connect", Actor: { Attributes: attrs } }), undefined);
});

test("stdcopy frames are decoded across chunk boundaries", () => {
  const frame = (kind: number, s: string) => {
    const payload = Buffer.from(s);
    const h = Buffer.alloc(8);
    h[0] = kind;
    h.writeUInt32BE(payload.length, 4);
    return Buffer.concat([h, payload]);
  };
  const all = Buffer.concat([frame(1, "out 1\n"), frame(2, "hello-err\n")]);
  const d = new FrameDecoder();
  const got = [...d.push(all.subarray(0, 10)), ...d.push(all.subarray(10))];
  assert.deepEqual(
    got.map((l) => [l.stream, l.line.toString()]),
    [
      ["stdout", "out 1\n"],
      ["stderr", "hello-err\n"],
    ],
  );
  const tty = new FrameDecoder(true);
  assert.deepEqual(
    tty.push(Buffer.from("a\nb")).map((l) => l.line.toString()),
    ["a\n"],
  );
  assert.deepEqual(
    tty.flush().map((l) => l.line.toString()),
    ["b"],
  );
});

test("the node description follows moby's Describe", () => {
  const d = describeFromInfo(
    {
      Name: "vm",
      OSType: "linux",
      Architecture: "x86_64",
      NCPU: 2,
      MemTotal: 1024,
      ServerVersion: "20.10.24+dfsg1",
      Labels: ["zone=a", "bad", "k=v=w"],
      Plugins: { Volume: ["local"], Network: ["bridge", "host"], Authorization: null, Log: ["json-file"] },
    },
    [
      {
        Name: "vieux/sshfs:latest",
        Enabled: true,
        Config: { Interface: { Types: [{ Prefix: "docker", Capability: "volumedriver" }] } },
      },
      {
        Name: "off",
        Enabled: false,
        Config: { Interface: { Types: [{ Prefix: "docker", Capability: "logdriver" }] } },
      },
    ],
  );
  assert.deepEqual(d, {
    Hostname: "vm",
    Platform: { Architecture: "x86_64", OS: "linux" },
    Resources: { NanoCPUs: 2e9, MemoryBytes: 1024 },
    Engine: {
      EngineVersion: "20.10.24+dfsg1",
      Labels: { zone: "a", k: "v=w" },
      Plugins: [
        { Type: "Log", Name: "json-file" },
        { Type: "Network", Name: "bridge" },
        { Type: "Network", Name: "host" },
        { Type: "Network", Name: "overlay" },
        { Type: "Volume", Name: "local" },
        { Type: "Volume", Name: "vieux/sshfs:latest" },
      ],
    },
  });
});
