/** What each of Airflow's roles may do in the UI. Admin > Op > User > Viewer; the server enforces it too. */

export type Action =
  | "browse" // DAGs list, DAG views, Browse pages
  | "operate" // pause, trigger, clear, mark task instances
  | "admin" // Variables, Connections, Pools and the other Admin pages
  | "develop" // Developer pages: manage DAG files and code
  | "security"; // users and roles

const GRANTS: Record<string, readonly Action[]> = {
  Viewer: ["browse"],
  User: ["browse", "operate", "develop"],
  Op: ["browse", "operate", "develop", "admin"],
  Admin: ["browse", "operate", "develop", "admin", "security"],
};

export function can(roles: readonly string[], action: Action): boolean {
  return roles.some((role) => GRANTS[role]?.includes(action) ?? false);
}
