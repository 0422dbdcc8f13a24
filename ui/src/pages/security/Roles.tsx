import { useState } from "react";
import { api } from "../../api/client";
import { ErrorText, Loading, Modal } from "../../components/common";
import { usePoll } from "../../lib/usePoll";

interface Role {
  name: string;
  actions: { action: { name: string }; resource: { name: string } }[];
}

/** DAG access is granted by can_dag_read/can_dag_edit on a DAG id, or on all_dags for every DAG. */
function dagAccess(role: Role): string {
  const on = (action: string) => role.actions.filter((a) => a.action.name === action).map((a) => a.resource.name);
  const describe = (dags: string[]) => (dags.includes("all_dags") ? "all DAGs" : dags.join(", ") || "none");
  const edit = on("can_dag_edit");
  const read = on("can_dag_read");
  return `read: ${describe(read)} · edit: ${describe(edit)}`;
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

export function Roles() {
  const roles = usePoll(() => api.get<{ roles: Role[] }>("/api/couture/security/roles"), [], 10000);
  const [shown, setShown] = useState<Role | null>(null);
  return (
    <section>
      <header className="page-header">
        <h1>List Roles</h1>
      </header>
      <ErrorText error={roles.error} />
      {!roles.data ? (
        <Loading what="roles" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Role</th>
              <th>Permissions</th>
              <th>DAG access</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {roles.data.roles.map((r) => (
              <tr key={r.name}>
                <td>{r.name}</td>
                <td>{r.actions.length}</td>
                <td className="small">{dagAccess(r)}</td>
                <td className="row-actions">
                  <button type="button" onClick={() => setShown(r)}>
                    Permissions
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && <Permissions role={shown} onClose={() => setShown(null)} />}
    </section>
  );
}
