/**
 * Security → List Roles: the built-in roles (read-only) and custom roles an Admin creates, edits and
 * deletes. A custom role holds any of the built-in permissions, and reads or edits all DAGs or only
 * the DAGs it names (can_dag_read / can_dag_edit on a dag_id).
 */
import { useMemo, useState } from "react";
import { api, url } from "../../api/client";
import { ErrorText, Loading, Modal } from "../../components/common";
import { writesOn } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

interface Pair {
  action: { name: string };
  resource: { name: string };
}

interface Role {
  name: string;
  actions: Pair[];
}

const ROLES = "/api/couture/security/roles";
/** The roles every installation has: the server refuses to change them. */
export const BUILT_IN_ROLES = ["Admin", "Op", "User", "Viewer", "Public", "Developer"];
const DAG_READ = "can_dag_read";
const DAG_EDIT = "can_dag_edit";
const ALL_DAGS = "all_dags";

const key = (action: string, resource: string) => `${action}\u0000${resource}`;
const pairOf = (k: string): Pair => {
  const [action, resource] = k.split("\u0000");
  return { action: { name: action }, resource: { name: resource } };
};

/** DAG access is granted by can_dag_read/can_dag_edit on a DAG id, or on all_dags for every DAG. */
function dagAccess(role: Role): string {
  const on = (action: string) => role.actions.filter((a) => a.action.name === action).map((a) => a.resource.name);
  const describe = (dags: string[]) => (dags.includes(ALL_DAGS) ? "all DAGs" : dags.join(", ") || "none");
  return `read: ${describe(on(DAG_READ))} · edit: ${describe(on(DAG_EDIT))}`;
}

function Permissions({ role, onClose }: { role: Role; onClose: () => void }) {
  const byResource = new Map<string, string[]>();
  for (const { action, resource } of role.actions) byResource.set(resource.name, [...(byResource.get(resource.name) ?? []), action.name]);
  return (
    <Modal title={`${role.name}: ${role.actions.length} permissions`} onClose={onClose} wide>
      <table className="table">
        <thead>
          <tr>
            <th>Resource</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {[...byResource.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([resource, actions]) => (
              <tr key={resource}>
                <td>{resource}</td>
                <td className="small">{actions.sort().join(", ")}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </Modal>
  );
}

/** Which DAGs the role reads and edits: all of them, or the ones listed. */
function DagAccess({ chosen, dagIds, toggle }: { chosen: Set<string>; dagIds: string[]; toggle: (k: string, on: boolean) => void }) {
  const [extra, setExtra] = useState("");
  /** DAG ids typed in: DAGs not uploaded yet may be granted too. */
  const [added, setAdded] = useState<string[]>([]);
  const named = new Set([...dagIds, ...added]);
  for (const k of chosen) {
    const { action, resource } = pairOf(k);
    if ((action.name === DAG_READ || action.name === DAG_EDIT) && resource.name !== ALL_DAGS) named.add(resource.name);
  }
  const rows = [ALL_DAGS, ...[...named].sort()];
  return (
    <fieldset className="dag-access">
      <legend>DAG access</legend>
      <table className="table compact">
        <thead>
          <tr>
            <th>DAG</th>
            <th>Read</th>
            <th>Edit</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((dag) => (
            <tr key={dag} data-dag-id={dag}>
              <td>{dag === ALL_DAGS ? <strong>All DAGs</strong> : <span className="mono">{dag}</span>}</td>
              {[DAG_READ, DAG_EDIT].map((action) => (
                <td key={action}>
                  <input
                    type="checkbox"
                    aria-label={`${action === DAG_READ ? "Read" : "Edit"} ${dag === ALL_DAGS ? "all DAGs" : dag}`}
                    checked={chosen.has(key(action, dag))}
                    onChange={(e) => {
                      toggle(key(action, dag), e.target.checked);
                      // Editing a DAG needs reading it.
                      if (action === DAG_EDIT && e.target.checked) toggle(key(DAG_READ, dag), true);
                    }}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="two">
        <input placeholder="Another DAG id" aria-label="Another DAG id" value={extra} onChange={(e) => setExtra(e.target.value)} />
        <button
          type="button"
          disabled={!extra.trim()}
          onClick={() => {
            setAdded([...added, extra.trim()]);
            setExtra("");
          }}
        >
          Add DAG
        </button>
      </div>
    </fieldset>
  );
}

function RoleForm({ existing, roles, onClose, onSaved }: { existing: Role | null; roles: Role[]; onClose: () => void; onSaved: () => void }) {
  const permissions = usePoll(() => api.get<{ actions: Pair[] }>("/api/couture/security/permissions"), [], 0);
  const dags = usePoll(() => api.get<{ dags: { dag_id: string }[] }>(url(["/api/v2/dags"], { limit: 100, order_by: "dag_id" })), [], 0);
  const [name, setName] = useState(existing?.name ?? "");
  const [chosen, setChosen] = useState(() => new Set((existing?.actions ?? []).map((a) => key(a.action.name, a.resource.name))));
  const [filter, setFilter] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const toggle = (k: string, on: boolean) =>
    setChosen((current) => {
      const next = new Set(current);
      if (on) next.add(k);
      else next.delete(k);
      return next;
    });

  /** Resource → its actions, DAG access aside (it has its own table). */
  const byResource = useMemo(() => {
    const grouped = new Map<string, string[]>();
    for (const { action, resource } of permissions.data?.actions ?? []) {
      if (action.name === DAG_READ || action.name === DAG_EDIT) continue;
      grouped.set(resource.name, [...(grouped.get(resource.name) ?? []), action.name]);
    }
    return [...grouped.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([resource, actions]) => [resource, actions.sort()] as const);
  }, [permissions.data]);
  const shown = byResource.filter(([resource]) => resource.toLowerCase().includes(filter.toLowerCase()));

  const copyFrom = (roleName: string) => {
    const source = roles.find((r) => r.name === roleName);
    if (source) setChosen(new Set(source.actions.map((a) => key(a.action.name, a.resource.name))));
  };

  const save = async () => {
    const trimmed = name.trim();
    if (!trimmed) return setError("name: a role needs a name");
    if (!existing && BUILT_IN_ROLES.includes(trimmed)) return setError(`name: ${trimmed} is a built-in role`);
    setSaving(true);
    const body = { name: trimmed, actions: [...chosen].sort().map(pairOf) };
    try {
      if (existing) await api.patch(url([ROLES, existing.name]), body);
      else await api.post(ROLES, body);
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal title={existing ? `Edit role ${existing.name}` : "Add role"} onClose={onClose} wide>
      <div className="two even">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} disabled={!!existing} maxLength={64} />
        </label>
        <label>
          Start from the permissions of
          <select aria-label="Copy permissions from" value="" onChange={(e) => copyFrom(e.target.value)}>
            <option value="">— choose a role —</option>
            {roles
              .filter((r) => r.name !== "Admin" && r.name !== existing?.name)
              .map((r) => (
                <option key={r.name}>{r.name}</option>
              ))}
          </select>
        </label>
      </div>
      <ErrorText error={permissions.error ?? dags.error} />
      <DagAccess chosen={chosen} dagIds={dags.data?.dags.map((d) => d.dag_id) ?? []} toggle={toggle} />
      <fieldset className="role-permissions">
        <legend>
          Permissions <span className="muted small">({[...chosen].filter((k) => !k.startsWith(DAG_READ) && !k.startsWith(DAG_EDIT)).length} chosen)</span>
        </legend>
        <input type="search" placeholder="Filter resources" aria-label="Filter resources" value={filter} onChange={(e) => setFilter(e.target.value)} />
        {!permissions.data ? (
          <Loading what="permissions" />
        ) : (
          <table className="table compact">
            <tbody>
              {shown.map(([resource, actions]) => {
                const all = actions.every((a) => chosen.has(key(a, resource)));
                return (
                  <tr key={resource} data-resource={resource}>
                    <td>
                      <label className="inline">
                        <input type="checkbox" aria-label={`Every action on ${resource}`} checked={all} onChange={(e) => actions.forEach((a) => toggle(key(a, resource), e.target.checked))} />
                        {resource}
                      </label>
                    </td>
                    <td className="permission-chips">
                      {actions.map((a) => (
                        <label key={a} className="inline chip">
                          <input type="checkbox" aria-label={`${a} on ${resource}`} checked={chosen.has(key(a, resource))} onChange={(e) => toggle(key(a, resource), e.target.checked)} />
                          {a}
                        </label>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </fieldset>
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={saving || !name.trim()} onClick={save}>
          Save
        </button>
      </div>
    </Modal>
  );
}

export function Roles() {
  const may = writesOn(useSession().access, "RoleModelView");
  const roles = usePoll(() => api.get<{ roles: Role[] }>(ROLES), [], 10000);
  const [shown, setShown] = useState<Role | null>(null);
  const [editing, setEditing] = useState<Role | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const remove = async (role: Role) => {
    if (!window.confirm(`Delete role ${role.name}? Users holding it keep the name, which then grants nothing.`)) return;
    setError(null);
    try {
      await api.delete(url([ROLES, role.name]));
      roles.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <header className="page-header">
        <h1>List Roles</h1>
        {may.add && (
          <button type="button" className="primary" onClick={() => setEditing(null)}>
            + Add role
          </button>
        )}
      </header>
      <ErrorText error={roles.error ?? error} />
      {!roles.data ? (
        <Loading what="roles" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Role</th>
              <th>Kind</th>
              <th>Permissions</th>
              <th>DAG access</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {roles.data.roles.map((r) => {
              const builtIn = BUILT_IN_ROLES.includes(r.name);
              return (
                <tr key={r.name} data-role={r.name}>
                  <td>{r.name}</td>
                  <td>{builtIn ? <span className="tag">built-in</span> : <span className="tag">custom</span>}</td>
                  <td>{r.actions.length}</td>
                  <td className="small">{dagAccess(r)}</td>
                  <td className="row-actions">
                    <button type="button" onClick={() => setShown(r)}>
                      Permissions
                    </button>
                    {!builtIn && may.edit && (
                      <button type="button" aria-label={`Edit ${r.name}`} onClick={() => setEditing(r)}>
                        Edit
                      </button>
                    )}
                    {!builtIn && may.remove && (
                      <button type="button" className="danger" aria-label={`Delete ${r.name}`} onClick={() => remove(r)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {shown && <Permissions role={shown} onClose={() => setShown(null)} />}
      {editing !== undefined && roles.data && (
        <RoleForm
          existing={editing}
          roles={roles.data.roles}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            roles.reload();
          }}
        />
      )}
    </section>
  );
}
