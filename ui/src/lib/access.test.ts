import { describe, expect, it } from "vitest";
import { parseVariablesImport, updateMask } from "./masks";
import { NAV, visibleSections } from "./nav";
import { access, NEEDS, NO_PERMISSIONS, writesOn, type EffectivePermissions } from "./permissions";

/** The server's read/edit split of DAG actions (dag_access_for), as users/me reports it. */
const READ_ACTIONS = ["can_list", "can_show", "can_code", "can_log", "can_tries", "can_task", "can_xcom", "menu_access"];

function granted(pairs: [string, string][], dags: { read?: string[] | "all"; edit?: string[] | "all" } = {}): EffectivePermissions {
  const dagAccess = (d: string[] | "all" | undefined) => (d === "all" ? { all: true, dag_ids: [] } : { all: false, dag_ids: d ?? [] });
  return {
    everything: false,
    permissions: pairs.reduce<Record<string, string[]>>((byResource, [action, resource]) => ({ ...byResource, [resource]: [...(byResource[resource] ?? []), action] }), {}),
    dag_read: dagAccess(dags.read),
    dag_edit: dagAccess(dags.edit),
    dag_read_actions: READ_ACTIONS,
  };
}

const menus = (p: EffectivePermissions) =>
  Object.fromEntries(visibleSections(access(p)).map((s) => [s.label, s.items.map((i) => i.label)]));

const VIEWER = granted(
  [
    ["can_list", "DagModelView"],
    ["can_list", "DagRunModelView"],
    ["can_list", "TaskInstanceModelView"],
    ["can_list", "SlaMissModelView"],
    ["can_list", "LogModelView"],
    ["menu_access", "Browse"],
  ],
  { read: "all" },
);
const ADMIN: EffectivePermissions = { ...NO_PERMISSIONS, everything: true, dag_read_actions: READ_ACTIONS };

describe("menus from the user's effective permissions", () => {
  it("shows a Viewer's permissions only the Browse menu, and every entry to everything", () => {
    expect(menus(VIEWER)).toEqual({ Browse: ["DAG Runs", "Task Instances", "SLA Misses", "Audit Logs"] });
    expect(Object.keys(menus(ADMIN))).toEqual(["Browse", "Admin", "Developer", "Security"]);
    expect(menus(ADMIN).Admin).toContain("LDAP Configuration");
  });

  it("shows a custom role exactly the entries its pairs open, whatever its name", () => {
    const custom = granted(
      [
        ["can_list", "DagModelView"],
        ["can_list", "DagRunModelView"],
        ["can_list", "VariableModelView"],
      ],
      { read: ["dag_a"] },
    );
    expect(menus(custom)).toEqual({ Browse: ["DAG Runs"], Admin: ["Variables"] });
  });

  it("opens the pages still to be built to their section's menu access, as the manual's roles grant it", () => {
    const op = granted([["menu_access", "Admin"], ["can_list", "PoolModelView"]]);
    expect(menus(op).Admin).toEqual(["Pools", "Spark Hadoop Config Groups"]);
    const developer = granted([["menu_access", "Developer"], ["can_list", "Manage DAGs"]]);
    expect(menus(developer).Developer).toEqual(NAV.find((s) => s.label === "Developer")?.items.map((i) => i.label));
  });

  it("shows the Audit Logs entry for either log and nothing at all without permissions", () => {
    expect(menus(granted([["can_list", "AuditLogView"]]))).toEqual({ Browse: ["Audit Logs"] });
    expect(menus(NO_PERMISSIONS)).toEqual({});
  });
});

describe("DAG controls per DAG", () => {
  const teamA = access(
    granted(
      [
        ["can_trigger", "Airflow"],
        ["can_paused", "Airflow"],
        ["can_list", "DagRunModelView"],
      ],
      { read: ["dag_a", "dag_b"], edit: ["dag_b"] },
    ),
  );

  it("allows an edit only on a DAG the role edits, and a read on one it reads", () => {
    expect(teamA.mayOnDag(NEEDS.trigger, "dag_b")).toBe(true);
    expect(teamA.mayOnDag(NEEDS.trigger, "dag_a")).toBe(false);
    expect(teamA.mayOnDag(NEEDS.pause, "dag_a")).toBe(false);
    expect(teamA.mayOnDag(["can_list", "DagRunModelView"], "dag_a")).toBe(true);
    expect(teamA.mayOnDag(["can_list", "DagRunModelView"], "dag_c")).toBe(false);
  });

  it("needs the action as well as the DAG: editing every DAG does not trigger without can_trigger", () => {
    const editor = access(granted([["can_edit", "TaskInstanceModelView"]], { read: "all", edit: "all" }));
    expect(editor.mayOnDag(NEEDS.markTasks, "any")).toBe(true);
    expect(editor.mayOnDag(NEEDS.trigger, "any")).toBe(false);
    expect(editor.mayOnDag(NEEDS.clearTasks, "any")).toBe(false);
  });

  it("gives a Viewer no trigger, pause, clear or mark anywhere, and Admin all of them", () => {
    for (const need of [NEEDS.trigger, NEEDS.pause, NEEDS.clearTasks, NEEDS.markTasks]) {
      expect(access(VIEWER).mayOnDag(need, "etl")).toBe(false);
      expect(access(ADMIN).mayOnDag(need, "etl")).toBe(true);
    }
  });
});

describe("edit controls on a resource", () => {
  it("follow add, edit and delete separately", () => {
    const readOnly = access(granted([["can_list", "VariableModelView"]]));
    expect(writesOn(readOnly, "VariableModelView")).toEqual({ add: false, edit: false, remove: false });
    const editOnly = access(granted([["can_edit", "VariableModelView"]]));
    expect(writesOn(editOnly, "VariableModelView")).toEqual({ add: false, edit: true, remove: false });
    expect(writesOn(access(ADMIN), "PoolModelView")).toEqual({ add: true, edit: true, remove: true });
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
