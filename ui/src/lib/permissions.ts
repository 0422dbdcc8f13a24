/**
 * What the signed-in user may do, from the permissions the server reports on
 * GET /api/couture/users/me: the (action, resource) pairs their roles grant now, and which DAGs they
 * may read and edit. Menus and controls follow these, so a custom role gets exactly what it may use;
 * no built-in role name is looked at. The UI only hides what would be refused: the server decides.
 */

/** An (action, resource) pair in the manual's vocabulary, e.g. ["can_trigger", "Airflow"]. */
export type Need = readonly [action: string, resource: string];

export interface DagAccess {
  all: boolean;
  dag_ids: string[];
}

/** The server's `permissions` field of GET /api/couture/users/me. */
export interface EffectivePermissions {
  /** Admin: every permission, including ones not listed. */
  everything: boolean;
  /** Each resource's granted actions. */
  permissions: Record<string, string[]>;
  dag_read: DagAccess;
  dag_edit: DagAccess;
  /** Actions that need read access to a DAG; every other action on a DAG needs edit access. */
  dag_read_actions: string[];
}

export const NO_PERMISSIONS: EffectivePermissions = {
  everything: false,
  permissions: {},
  dag_read: { all: false, dag_ids: [] },
  dag_edit: { all: false, dag_ids: [] },
  dag_read_actions: [],
};

export interface Access {
  /** Whether the user's roles grant the pair. */
  may: (need: Need) => boolean;
  /** Whether they grant at least one of the pairs. */
  mayAny: (needs: readonly Need[]) => boolean;
  /** Whether they grant the pair on DAG `dagId`: the pair, and read or edit access to that DAG as
   * the action needs (the server's `can(principal, action, resource, dag_id)`). */
  mayOnDag: (need: Need, dagId: string) => boolean;
}

const key = (action: string, resource: string) => `${action}\u0000${resource}`;

export function access(granted: EffectivePermissions): Access {
  const pairs = new Set(Object.entries(granted.permissions).flatMap(([resource, actions]) => actions.map((action) => key(action, resource))));
  const readActions = new Set(granted.dag_read_actions);
  const may = ([action, resource]: Need) => granted.everything || pairs.has(key(action, resource));
  const reaches = (dags: DagAccess, dagId: string) => granted.everything || dags.all || dags.dag_ids.includes(dagId);
  return {
    may,
    mayAny: (needs) => needs.some(may),
    mayOnDag: (need, dagId) => may(need) && reaches(readActions.has(need[0]) ? granted.dag_read : granted.dag_edit, dagId),
  };
}

/** The pairs the UI's controls need: each is the rule of the endpoint the control calls. */
export const NEEDS = {
  pause: ["can_paused", "Airflow"],
  trigger: ["can_trigger", "Airflow"],
  clearTasks: ["can_clear", "Airflow"],
  markTasks: ["can_edit", "TaskInstanceModelView"],
  accessLog: ["can_list", "AuditLogView"],
  dagEventLog: ["can_list", "LogModelView"],
  editDagFiles: ["can_edit", "Manage DAGs"],
  importErrors: ["can_index", "Airflow"],
} as const satisfies Record<string, Need>;

/** Add, edit and delete on a resource (Admin and Security pages). */
export function writesOn(a: Access, resource: string): { add: boolean; edit: boolean; remove: boolean } {
  return { add: a.may(["can_add", resource]), edit: a.may(["can_edit", resource]), remove: a.may(["can_delete", resource]) };
}
