import { useState } from "react";
import { api, url } from "../../api/client";
import { ErrorText, Loading, Modal } from "../../components/common";
import { writesOn } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

interface Account {
  username: string;
  roles: string[];
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  active: boolean;
}

const USERS = "/api/couture/security/users";

function UserForm({ existing, roleNames, onClose, onSaved }: { existing: Account | null; roleNames: string[]; onClose: () => void; onSaved: () => void }) {
  const [username, setUsername] = useState(existing?.username ?? "");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<string[]>(existing?.roles ?? ["Viewer"]);
  const [email, setEmail] = useState(existing?.email ?? "");
  const [first, setFirst] = useState(existing?.first_name ?? "");
  const [last, setLast] = useState(existing?.last_name ?? "");
  const [active, setActive] = useState(existing?.active ?? true);
  const [error, setError] = useState<string | null>(null);

  const save = async () => {
    if (roles.length === 0) {
      setError("roles: pick at least one role");
      return;
    }
    const details = { roles, email: email || null, first_name: first || null, last_name: last || null };
    try {
      if (existing) await api.patch(url([USERS, existing.username]), { ...details, active });
      else await api.post(USERS, { username, password, ...details });
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const toggleRole = (role: string, on: boolean) => setRoles(on ? [...roles, role] : roles.filter((r) => r !== role));

  return (
    <Modal title={existing ? `Edit ${existing.username}` : "Add user"} onClose={onClose}>
      <label>
        Username
        <input value={username} onChange={(e) => setUsername(e.target.value)} disabled={!!existing} />
      </label>
      {!existing && (
        <label>
          Password
          <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
      )}
      <fieldset className="roles">
        <legend>Roles</legend>
        {roleNames.map((role) => (
          <label key={role} className="inline">
            <input type="checkbox" checked={roles.includes(role)} onChange={(e) => toggleRole(role, e.target.checked)} /> {role}
          </label>
        ))}
      </fieldset>
      <div className="two even">
        <label>
          First name
          <input value={first} onChange={(e) => setFirst(e.target.value)} />
        </label>
        <label>
          Last name
          <input value={last} onChange={(e) => setLast(e.target.value)} />
        </label>
      </div>
      <label>
        Email
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      {existing && (
        <label className="inline">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active (may sign in)
        </label>
      )}
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!username || (!existing && !password)} onClick={save}>
          Save
        </button>
      </div>
    </Modal>
  );
}

export function Users() {
  const { claims, access } = useSession();
  const may = writesOn(access, "UserDBModelView");
  const users = usePoll(() => api.get<{ users: Account[] }>(USERS), [], 5000);
  const roles = usePoll(() => api.get<{ roles: { name: string }[] }>("/api/couture/security/roles"), [], 0);
  const [editing, setEditing] = useState<Account | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const remove = async (username: string) => {
    if (!window.confirm(`Delete user ${username}?`)) return;
    try {
      await api.delete(url([USERS, username]));
      users.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <header className="page-header">
        <h1>List Users</h1>
        {may.add && (
          <button type="button" className="primary" onClick={() => setEditing(null)}>
            + Add user
          </button>
        )}
      </header>
      <ErrorText error={users.error ?? error} />
      {!users.data ? (
        <Loading what="users" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Username</th>
              <th>Name</th>
              <th>Email</th>
              <th>Roles</th>
              <th>Active</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.data.users.map((u) => (
              <tr key={u.username}>
                <td className="mono">{u.username}</td>
                <td>{[u.first_name, u.last_name].filter(Boolean).join(" ")}</td>
                <td>{u.email}</td>
                <td>
                  {u.roles.map((r) => (
                    <span key={r} className="tag">
                      {r}
                    </span>
                  ))}
                </td>
                <td>{u.active ? "yes" : "no"}</td>
                <td className="row-actions">
                  {may.edit && (
                    <button type="button" onClick={() => setEditing(u)}>
                      Edit
                    </button>
                  )}
                  {may.remove && u.username !== claims?.sub && (
                    <button type="button" className="danger" onClick={() => remove(u.username)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing !== undefined && (
        <UserForm
          existing={editing}
          roleNames={roles.data?.roles.map((r) => r.name) ?? ["Admin", "Op", "User", "Viewer", "Developer", "Public"]}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            users.reload();
          }}
        />
      )}
    </section>
  );
}
