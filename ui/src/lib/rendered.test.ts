import { describe, expect, it } from "vitest";
import { renderedEntries, renderedText } from "./rendered";

describe("rendered template fields", () => {
  it("shows strings as rendered and other values as JSON", () => {
    expect(renderedText("echo 2024-01-01 ***")).toBe("echo 2024-01-01 ***");
    expect(renderedText({ DAY: "20240101" })).toBe('{\n  "DAY": "20240101"\n}');
    expect(renderedText(null)).toBe("");
  });

  it("keeps the operator's field order and leaves out empty fields", () => {
    const fields = { bash_command: "echo hi", env: null, cwd: "", op_args: [], op_kwargs: {}, append_env: { A: "1" } };

    expect(renderedEntries(fields).map(([name]) => name)).toEqual(["bash_command", "append_env"]);
    expect(renderedEntries(null)).toEqual([]);
  });
});
