import { describe, expect, it } from "vitest";
import { parseConf } from "./conf";

describe("trigger conf", () => {
  it("treats an empty box as no conf", () => {
    expect(parseConf("")).toEqual({ ok: true, conf: {} });
    expect(parseConf("  \n ")).toEqual({ ok: true, conf: {} });
  });

  it("accepts a JSON object", () => {
    expect(parseConf('{"greeting": "hi", "n": [1, 2]}')).toEqual({ ok: true, conf: { greeting: "hi", n: [1, 2] } });
  });

  it("refuses text that is not JSON, saying why", () => {
    const result = parseConf("{greeting: hi}");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^conf is not valid JSON: /);
  });

  it.each([
    ["[1, 2]", "an array"],
    ["42", "a number"],
    ['"text"', "a string"],
    ["null", "null"],
    ["true", "a boolean"],
  ])("refuses %s: a conf must be an object, not %s", (text, kind) => {
    expect(parseConf(text)).toEqual({ ok: false, error: `conf must be a JSON object ({...}), not ${kind}` });
  });
});
