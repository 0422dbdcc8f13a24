/**
 * What each of the manual's default roles may do in the UI: User adds operating DAGs to Viewer;
 * Developer adds the Developer pages to User; Op adds the Admin pages to User; Admin has it all.
 * Public (anonymous) has nothing. The UI only hides what a role cannot use; the server decides.
 */

export type Action =
  | "browse" // DAGs list, DAG views, Browse pages
  | "operate" // pause, trigger, clear, mark task instances
  | "admin" // Variables, Connections, Pools and the other Admin pages
  | "develop" // Developer pages: manage DAG files and code
  | "security"; // users and roles

const GRANTS: Record<string, readonly Action[]> = {
  Viewer: ["browse"],
  User: ["browse", "operate"],
  Developer: ["browse", "operate", "develop"],
  Op: ["browse", "operate", "admin"],
  Admin: ["browse", "operate", "develop", "admin", "security"],
};

export function can(roles: readonly string[], action: Action): boolean {
  return roles.some((role) => GRANTS[role]?.includes(action) ?? false);
}
