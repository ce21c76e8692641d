import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ShoalError } from "../../base/index.ts";
import { exactMatch, filtersAsRecord, parseFilters } from "./filters.ts";

const invalid = (text: string) => (e: unknown) => ShoalError.is(e, "InvalidArgument") && e.message === text;

describe("parseFilters", () => {
  it("reads the map form, keeping values whose flag is false (as moby)", () => {
    const f = parseFilters(JSON.stringify({ label: { "a=b": true, c: false }, name: { web: true } }));
    assert.deepEqual(
      [...f.entries()],
      [
        ["label", ["a=b", "c"]],
        ["name", ["web"]],
      ],
    );
  });
  it("reads the legacy list form", () => {
    assert.deepEqual(filtersAsRecord(parseFilters('{"id":["abc","def"]}')), { id: ["abc", "def"] });
  });
  it("is empty when absent", () => {
    assert.equal(parseFilters(undefined).size, 0);
    assert.equal(parseFilters("").size, 0);
  });
  it("refuses keys outside the accepted set, naming the key", () => {
    assert.throws(
      () => parseFilters('{"bogus":{"x":true}}', ["name", "id"]),
      invalid("invalid filter 'bogus'"),
    );
  });
  it("names the filter whose value has the wrong shape", () => {
    assert.throws(() => parseFilters('{"label":5}'), invalid("invalid filter 'label'"));
    assert.throws(() => parseFilters('{"label":[1]}'), invalid("invalid filter 'label'"));
    assert.throws(() => parseFilters('{"label":{"a":"yes"}}'), invalid("invalid filter 'label'"));
  });
  it("refuses malformed JSON and non-objects", () => {
    assert.throws(
      () => parseFilters("{nope"),
      (e: unknown) => ShoalError.is(e, "InvalidArgument"),
    );
    assert.throws(
      () => parseFilters("[1]"),
      (e: unknown) => ShoalError.is(e, "InvalidArgument"),
    );
  });
  it("exactMatch follows moby: absent key matches everything", () => {
    const f = parseFilters('{"role":{"manager":true}}');
    assert.equal(exactMatch(f, "role", "manager"), true);
    assert.equal(exactMatch(f, "role", "worker"), false);
    assert.equal(exactMatch(f, "membership", "x"), true);
  });
});
