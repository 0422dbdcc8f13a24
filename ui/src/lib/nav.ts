/** The menu as the product manual lays it out. Entries without a page yet say so when opened. */
import type { Action } from "./permissions";

export interface NavItem {
  label: string;
  path: string;
  /** False for pages still to be built: the route explains that instead of hiding the entry. */
  built: boolean;
  /** What the entry needs beyond its section's permission. */
  needs?: Action;
}

export interface NavSection {
  label: string;
  needs: Action;
  items: NavItem[];
}

const item = (label: string, path: string, built = false, needs?: Action): NavItem => ({ label, path, built, needs });

export const NAV: NavSection[] = [
  {
    label: "Browse",
    needs: "browse",
    items: [
      item("DAG Runs", "/browse/dag-runs", true),
      item("Task Instances", "/browse/task-instances", true),
      item("SLA Misses", "/browse/sla-misses", true),
      item("Audit Logs", "/browse/audit-logs", true),
    ],
  },
  {
    label: "Admin",
    needs: "admin",
    items: [
      item("Variables", "/admin/variables", true),
      item("Connections", "/admin/connections", true),
      item("Pools", "/admin/pools", true),
      item("Spark Hadoop Config Groups", "/admin/spark-hadoop-config-groups"),
      // Only Admin may see or change how users sign in.
      item("LDAP Configuration", "/admin/ldap", true, "security"),
    ],
  },
  {
    label: "Developer",
    needs: "develop",
    items: [
      item("Manage DAGs", "/developer/dags", true),
      item("Code Artifacts", "/developer/code-artifacts"),
      item("Jupyter Notebook", "/developer/jupyter"),
      item("Models and Datasets", "/developer/models"),
      item("Exploratory Data Analysis", "/developer/eda"),
      item("Visualisations", "/developer/visualisations"),
      item("Git Configuration", "/developer/git"),
    ],
  },
  {
    label: "Security",
    needs: "security",
    items: [item("List Users", "/security/users", true), item("List Roles", "/security/roles", true)],
  },
];

export function visibleSections(allowed: (action: Action) => boolean): NavSection[] {
  return NAV.filter((section) => allowed(section.needs)).map((section) => ({
    ...section,
    items: section.items.filter((entry) => !entry.needs || allowed(entry.needs)),
  }));
}
