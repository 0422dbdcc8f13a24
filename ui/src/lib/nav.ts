/**
 * The menu as the product manual lays it out. Each entry needs the permission of the endpoint its
 * page lists from (the server's rule for it); a section shows when any of its entries does.
 */
import type { Access, Need } from "./permissions";

export interface NavItem {
  label: string;
  path: string;
  /** False for pages still to be built: the route explains that instead of hiding the entry. */
  built: boolean;
  /** The entry shows when the user's roles grant any of these. */
  needs: readonly Need[];
}

export interface NavSection {
  label: string;
  items: NavItem[];
}

/** What each page needs: its route is refused, and its entry hidden, without one of these. */
export const PAGE_NEEDS = {
  dagRuns: [["can_list", "DagRunModelView"]],
  taskInstances: [["can_list", "TaskInstanceModelView"]],
  slaMisses: [["can_list", "SlaMissModelView"]],
  // Airflow's DAG event log, or the access log beside it.
  auditLogs: [
    ["can_list", "LogModelView"],
    ["can_list", "AuditLogView"],
  ],
  variables: [["can_list", "VariableModelView"]],
  connections: [["can_list", "ConnectionModelView"]],
  pools: [["can_list", "PoolModelView"]],
  // Pages still to be built: the menu entry of their section (the manual's menu_access).
  admin: [["menu_access", "Admin"]],
  // Only Admin may see or change how users sign in.
  ldap: [["can_show", "LdapConfigView"]],
  manageDags: [["can_list", "Manage DAGs"]],
  developer: [["menu_access", "Developer"]],
  users: [["can_list", "UserDBModelView"]],
  roles: [["can_list", "RoleModelView"]],
} as const satisfies Record<string, readonly Need[]>;

const item = (label: string, path: string, needs: readonly Need[], built = true): NavItem => ({ label, path, built, needs });
const developerPage = (label: string, path: string, resource: string) =>
  item(label, path, [...PAGE_NEEDS.developer, ["menu_access", resource]], false);

export const NAV: NavSection[] = [
  {
    label: "Browse",
    items: [
      item("DAG Runs", "/browse/dag-runs", PAGE_NEEDS.dagRuns),
      item("Task Instances", "/browse/task-instances", PAGE_NEEDS.taskInstances),
      item("SLA Misses", "/browse/sla-misses", PAGE_NEEDS.slaMisses),
      item("Audit Logs", "/browse/audit-logs", PAGE_NEEDS.auditLogs),
    ],
  },
  {
    label: "Admin",
    items: [
      item("Variables", "/admin/variables", PAGE_NEEDS.variables),
      item("Connections", "/admin/connections", PAGE_NEEDS.connections),
      item("Pools", "/admin/pools", PAGE_NEEDS.pools),
      item("Spark Hadoop Config Groups", "/admin/spark-hadoop-config-groups", PAGE_NEEDS.admin, false),
      item("LDAP Configuration", "/admin/ldap", PAGE_NEEDS.ldap),
    ],
  },
  {
    label: "Developer",
    items: [
      item("Manage DAGs", "/developer/dags", PAGE_NEEDS.manageDags),
      developerPage("Code Artifacts", "/developer/code-artifacts", "Code Artifacts"),
      developerPage("Jupyter Notebook", "/developer/jupyter", "Jupyter Notebook"),
      developerPage("Models and Datasets", "/developer/models", "Models and Datasets"),
      item("Exploratory Data Analysis", "/developer/eda", PAGE_NEEDS.developer, false),
      item("Visualisations", "/developer/visualisations", PAGE_NEEDS.developer, false),
      item("Git Configuration", "/developer/git", PAGE_NEEDS.developer, false),
    ],
  },
  {
    label: "Security",
    items: [item("List Users", "/security/users", PAGE_NEEDS.users), item("List Roles", "/security/roles", PAGE_NEEDS.roles)],
  },
];

/** The sections and entries the user may use; a section without any entry left is not shown. */
export function visibleSections(a: Access): NavSection[] {
  return NAV.map((section) => ({ ...section, items: section.items.filter((entry) => a.mayAny(entry.needs)) })).filter(
    (section) => section.items.length > 0,
  );
}
