import { useState } from "react";
import { api, url } from "../../api/client";
import type { Connection, ConnectionCollection } from "../../api/types";
import { ErrorText, Loading, Modal } from "../../components/common";
import { updateMask } from "../../lib/masks";
import { writesOn } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

const FIELDS = ["conn_type", "description", "host", "schema", "login", "port", "extra"] as const;
type Field = (typeof FIELDS)[number];

function ConnectionForm({ existing, onClose, onSaved }: { existing: Connection | null; onClose: () => void; onSaved: () => void }) {
  const [id, setId] = useState(existing?.connection_id ?? "");
  const [values, setValues] = useState<Record<Field, string>>(() =>
    Object.fromEntries(FIELDS.map((f) => [f, existing?.[f] == null ? "" : String(existing[f])])) as Record<Field, string>,
  );
  // Write-only: the API never sends it back, so an empty box means "keep the stored password".
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);

  const save = async () => {
    setError(null);
    const port = values.port.trim();
    if (port && !/^\d+$/.test(port)) {
      setError("port: must be a whole number between 0 and 65535");
      return;
    }
    const body: Record<string, unknown> = { connection_id: id };
    for (const f of FIELDS) body[f] = f === "port" ? (port ? Number(port) : null) : values[f] || null;
    body.conn_type = values.conn_type;
    if (password) body.password = password;
    try {
      if (!existing) await api.post(url(["/api/v2/connections"]), body);
      else {
        const mask = [...FIELDS, ...(password ? ["password"] : [])];
        await api.patch(url(["/api/v2/connections", existing.connection_id]) + updateMask(mask), body);
      }
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const input = (f: Field, label: string) => (
    <label key={f}>
      {label}
      <input value={values[f]} onChange={(e) => setValues({ ...values, [f]: e.target.value })} />
    </label>
  );
  return (
    <Modal title={existing ? `Edit ${existing.connection_id}` : "Add connection"} onClose={onClose}>
      <label>
        Connection id
        <input value={id} onChange={(e) => setId(e.target.value)} disabled={!!existing} />
      </label>
      {input("conn_type", "Connection type")}
      {input("description", "Description")}
      <div className="two">
        {input("host", "Host")}
        {input("port", "Port")}
      </div>
      {input("schema", "Schema")}
      {input("login", "Login")}
      <label>
        Password
        <input type="password" autoComplete="new-password" value={password} placeholder={existing ? "Unchanged unless you type a new one" : ""} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <label>
        Extra (JSON)
        <textarea className="code" rows={3} value={values.extra} onChange={(e) => setValues({ ...values, extra: e.target.value })} />
      </label>
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!id || !values.conn_type} onClick={save}>
          Save
        </button>
      </div>
    </Modal>
  );
}

export function Connections() {
  const [editing, setEditing] = useState<Connection | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const may = writesOn(useSession().access, "ConnectionModelView");
  const conns = usePoll(() => api.get<ConnectionCollection>(url(["/api/v2/connections"], { limit: 100, order_by: "connection_id" })), [], 5000, { kinds: ["connection"] });
  const remove = async (id: string) => {
    if (!window.confirm(`Delete connection ${id}?`)) return;
    try {
      await api.delete(url(["/api/v2/connections", id]));
      conns.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <header className="page-header">
        <h1>Connections</h1>
        {may.add && (
          <button type="button" className="primary" onClick={() => setEditing(null)}>
            + Add connection
          </button>
        )}
      </header>
      <ErrorText error={conns.error ?? error} />
      {!conns.data ? (
        <Loading what="connections" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Connection id</th>
              <th>Type</th>
              <th>Host</th>
              <th>Port</th>
              <th>Login</th>
              <th>Description</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {conns.data.connections.map((c) => (
              <tr key={c.connection_id}>
                <td className="mono">{c.connection_id}</td>
                <td>{c.conn_type}</td>
                <td>{c.host}</td>
                <td>{c.port}</td>
                <td>{c.login}</td>
                <td>{c.description}</td>
                <td className="row-actions">
                  {may.edit && (
                    <button type="button" onClick={() => setEditing(c)}>
                      Edit
                    </button>
                  )}
                  {may.remove && (
                    <button type="button" className="danger" onClick={() => remove(c.connection_id)}>
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
        <ConnectionForm
          existing={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            conns.reload();
          }}
        />
      )}
    </section>
  );
}
