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
