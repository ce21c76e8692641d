import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ShoalError } from "../../base/index.ts";
import { boolValue, formValue, parseVersionParam, strictBool } from "./query.ts";

describe("boolValue (dockerd's httputils.BoolValue)", () => {
  it("is false for empty, 0, no, false, none in any case", () => {
    for (const v of ["", " ", "0", "no", "NO", "false", "False", "none", ["0", "1"]]) {
      assert.equal(boolValue(v), false, String(v));
    }
  });
  it("is true for anything else", () => {
    for (const v of ["1", "true", "True", "yes", "anything", ["1"]])
      assert.equal(boolValue(v), true, String(v));
  });
  it("uses the fallback only when absent", () => {
    assert.equal(boolValue(undefined, true), true);
    assert.equal(boolValue("0", true), false);
  });
});

describe("strictBool (strconv.ParseBool)", () => {
  it("accepts Go's spellings", () => {
    for (const v of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(strictBool("x", v), true);
    for (const v of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(strictBool("x", v), false);
    assert.equal(strictBool("x", undefined), false);
  });
  it("refuses anything else naming the parameter", () => {
    assert.throws(
      () => strictBool("rotateWorkerToken", "yes"),
      (e: unknown) =>
        ShoalError.is(e, "InvalidArgument") && e.message === "invalid value for rotateWorkerToken: yes",
    );
  });
});

describe("parseVersionParam", () => {
  it("parses a decimal index", () => {
    assert.equal(parseVersionParam("service", "42"), 42);
    assert.equal(parseVersionParam("node", ["7", "8"]), 7);
  });
  it("gives moby's text for missing or bad values, per kind", () => {
    const cases: Array<[Parameters<typeof parseVersionParam>[0], unknown, string]> = [
      ["service", undefined, `invalid service version '': strconv.ParseUint: parsing "": invalid syntax`],
      ["swarm", "abc", `invalid swarm version 'abc': strconv.ParseUint: parsing "abc": invalid syntax`],
      ["node", "-1", `invalid node version '-1': strconv.ParseUint: parsing "-1": invalid syntax`],
      ["secret", "1.5", `invalid secret version '1.5': strconv.ParseUint: parsing "1.5": invalid syntax`],
      [
        "config",
        "99999999999999999999",
        `invalid config version '99999999999999999999': strconv.ParseUint: parsing "99999999999999999999": value out of range`,
      ],
    ];
    for (const [kind, raw, text] of cases) {
      assert.throws(
        () => parseVersionParam(kind, raw),
        (e: unknown) => ShoalError.is(e, "InvalidArgument") && e.message === text,
      );
    }
  });
  it("formValue takes the first value", () => {
    assert.equal(formValue(["a", "b"]), "a");
    assert.equal(formValue(3), "");
  });
});
