import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ShoalError } from "../../base/index.ts";
import { checkShape, parseJsonText, shape } from "./body.ts";

const invalid = (text: string) => (e: unknown) => ShoalError.is(e, "InvalidArgument") && e.message === text;
const { string, bool, int, uint, map, array, struct } = shape;
const REQ = struct("swarm.InitRequest", {
  ListenAddr: string,
  ForceNewCluster: bool,
  DataPathPort: uint("uint32"),
  DefaultAddrPool: array(string),
  Spec: struct("swarm.Spec", {
    Labels: map(string),
    Raft: struct("swarm.RaftConfig", { ElectionTick: int() }),
  }),
});

describe("parseJsonText", () => {
  it("gives Go's texts for common mistakes", () => {
    assert.throws(
      () => parseJsonText("xyz"),
      invalid("invalid character 'x' looking for beginning of value"),
    );
    assert.throws(() => parseJsonText("  "), invalid("got EOF while reading request body"));
    assert.throws(() => parseJsonText('{"a":'), invalid("unexpected EOF"));
    assert.throws(
      () => parseJsonText('{"a" 1}'),
      (e: unknown) => ShoalError.is(e, "InvalidArgument"),
    );
  });
  it("parses valid JSON", () => assert.deepEqual(parseJsonText('{"a":[1]}'), { a: [1] }));
});

describe("checkShape", () => {
  it("accepts matching values, null anywhere and unknown fields", () => {
    checkShape(
      { ListenAddr: "0.0.0.0:2377", DefaultAddrPool: null, Spec: { Raft: null }, Extra: 1 },
      REQ,
      "swarm.InitRequest",
    );
  });
  it("names the field with the wrong type", () => {
    assert.throws(
      () => checkShape({ ListenAddr: 5 }, REQ, "swarm.InitRequest"),
      invalid(
        "json: cannot unmarshal number into Go struct field swarm.InitRequest.ListenAddr of type string",
      ),
    );
    assert.throws(
      () => checkShape({ Spec: { Raft: { ElectionTick: "3" } } }, REQ, "swarm.InitRequest"),
      invalid(
        "json: cannot unmarshal string into Go struct field swarm.InitRequest.Spec.Raft.ElectionTick of type int",
      ),
    );
    assert.throws(
      () => checkShape({ DataPathPort: -1 }, REQ, "swarm.InitRequest"),
      invalid(
        "json: cannot unmarshal number -1 into Go struct field swarm.InitRequest.DataPathPort of type uint32",
      ),
    );
    assert.throws(
      () => checkShape({ DefaultAddrPool: ["10.0.0.0/8", 7] }, REQ, "swarm.InitRequest"),
      invalid(
        "json: cannot unmarshal number into Go struct field swarm.InitRequest.DefaultAddrPool of type string",
      ),
    );
    assert.throws(
      () => checkShape({ Spec: { Labels: { a: true } } }, REQ, "swarm.InitRequest"),
      invalid(
        "json: cannot unmarshal bool into Go struct field swarm.InitRequest.Spec.Labels.a of type string",
      ),
    );
  });
  it("names the root type for a body of the wrong kind", () => {
    assert.throws(
      () => checkShape([1], REQ, "swarm.InitRequest"),
      invalid("json: cannot unmarshal array into Go value of type swarm.InitRequest"),
    );
  });
});

describe("Go's JSON syntax messages", () => {
  const cases: Array<[string, string]> = [
    ["xyz", "invalid character 'x' looking for beginning of value"],
    ["nope", "invalid character 'o' in literal null (expecting 'u')"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ["[1 2]", "invalid character '2' after array element"],
    ["[1,]", "invalid character ']' looking for beginning of value"],
    ["-x", "invalid character 'x' in numeric literal"],
    ["1.e3", "invalid character 'e' after decimal point in numeric literal"],
    ['"a\\q"', "invalid character 'q' in string escape code"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ["{} x", "invalid character 'x' after top-level value"],
    ['{"a":[1,', "unexpected EOF"],
  ];
  for (const [text, message] of cases) {
    it(JSON.stringify(text), () => assert.throws(() => parseJsonText(text), invalid(message)));
  }
});
