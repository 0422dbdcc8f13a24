import { describe, expect, it } from "vitest";
import { parseVariablesImport, updateMask } from "./masks";
import { visibleSections } from "./nav";
import { can } from "./permissions";

describe("what a role may do", () => {
  it("lets a Viewer browse but not operate, administer or develop", () => {
    expect(can(["Viewer"], "browse")).toBe(true);
    expect(["operate", "admin", "develop", "security"].some((a) => can(["Viewer"], a as never))).toBe(false);
  });

  it("shows a Viewer only the Browse menu and an Admin every menu", () => {
    expect(visibleSections((a) => can(["Viewer"], a)).map((s) => s.label)).toEqual(["Browse"]);
    expect(visibleSections((a) => can(["Admin"], a)).map((s) => s.label)).toEqual(["Browse", "Admin", "Developer", "Security"]);
  });

  it("gives Developer the Developer pages and Op the Admin pages, not each other's", () => {
    expect(can(["Developer"], "develop") && !can(["Developer"], "admin")).toBe(true);
    expect(can(["Op"], "admin") && !can(["Op"], "develop")).toBe(true);
    expect(can(["User"], "operate") && !can(["User"], "develop")).toBe(true);
    expect(can(["Public"], "browse")).toBe(false);
  });

  it("shows LDAP Configuration to Admin only, though Op sees the rest of the Admin menu", () => {
    const adminItems = (roles: string[]) =>
      visibleSections((a) => can(roles, a))
        .find((s) => s.label === "Admin")
        ?.items.map((i) => i.label);
    expect(adminItems(["Op"])).toEqual(["Variables", "Connections", "Pools", "Spark Hadoop Config Groups"]);
    expect(adminItems(["Admin"])).toContain("LDAP Configuration");
  });

  it("grants what any of a user's roles grants", () => {
    expect(can(["Viewer", "Op"], "admin")).toBe(true);
    expect(can([], "browse")).toBe(false);
  });
});

describe("edits that keep masked values", () => {
  it("names the changed fields in the update mask", () => {
    expect(updateMask(["host", "port"])).toBe("?update_mask=host&update_mask=port");
    expect(updateMask([])).toBe("");
  });

  it("imports a JSON object of variables, non-strings stored as JSON text", () => {
    expect(parseVariablesImport('{"a": "x", "b": {"n": 1}, "c": 2}')).toEqual({
      ok: true,
      variables: [["a", "x"], ["b", '{"n":1}'], ["c", "2"]],
    });
  });

  it("refuses an import that is not an object of variables", () => {
    expect(parseVariablesImport("[1]")).toEqual({ ok: false, error: 'expected a JSON object of variables, like {"key": "value"}' });
    expect(parseVariablesImport("{}")).toEqual({ ok: false, error: "the file holds no variables" });
    expect(parseVariablesImport("{").ok).toBe(false);
  });
});
