import { useState } from "react";
import { ApiError, api, url } from "../../api/client";
import type { Variable, VariableCollection } from "../../api/types";
import { ErrorText, Loading, Modal } from "../../components/common";
import { MASK, parseVariablesImport, updateMask } from "../../lib/masks";
import { writesOn } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

const path = (key: string) => url(["/api/v2/variables", key]);

function VariableForm({ existing, onClose, onSaved }: { existing: Variable | null; onClose: () => void; onSaved: () => void }) {
  const masked = existing?.value === MASK;
  const [key, setKey] = useState(existing?.key ?? "");
  const [value, setValue] = useState(masked ? "" : (existing?.value ?? ""));
  const [description, setDescription] = useState(existing?.description ?? "");
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    setError(null);
    try {
      if (!existing) await api.post(url(["/api/v2/variables"]), { key, value, description: description || null });
      else {
        const fields = masked && value === "" ? ["description"] : ["value", "description"];
        await api.patch(path(existing.key) + updateMask(fields), { key: existing.key, value, description: description || null });
      }
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Modal title={existing ? `Edit ${existing.key}` : "Add variable"} onClose={onClose}>
      <label>
        Key
        <input value={key} onChange={(e) => setKey(e.target.value)} disabled={!!existing} required />
      </label>
      <label>
        Value
        <textarea rows={4} value={value} placeholder={masked ? "Masked: leave empty to keep the current value" : ""} onChange={(e) => setValue(e.target.value)} />
      </label>
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!key} onClick={save}>
          Save
        </button>
      </div>
    </Modal>
  );
}

/** Keys the page already lists are updated, others created (a key added meanwhile is updated on 409). */
function ImportDialog({ known, onClose, onDone }: { known: ReadonlySet<string>; onClose: () => void; onDone: () => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<string | null>(null);
  const parsed = text ? parseVariablesImport(text) : null;
  const run = async () => {
    if (!parsed?.ok) return;
    setError(null);
    let created = 0;
    let updated = 0;
    try {
      for (const [key, value] of parsed.variables) {
        if (known.has(key)) {
          await api.patch(path(key) + updateMask(["value"]), { key, value });
          updated += 1;
          continue;
        }
        try {
          await api.post(url(["/api/v2/variables"]), { key, value });
          created += 1;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
          await api.patch(path(key) + updateMask(["value"]), { key, value });
          updated += 1;
        }
      }
      setReport(`${created} created, ${updated} updated.`);
      onDone();
    } catch (e) {
      setError(`${created + updated} imported, then: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return (
    <Modal title="Import variables" onClose={onClose}>
      <label>
        JSON file
        <input type="file" accept=".json,application/json" onChange={async (e) => setText((await e.target.files?.[0]?.text()) ?? "")} />
      </label>
      <label>
        or paste JSON
        <textarea className="code" rows={8} value={text} onChange={(e) => setText(e.target.value)} placeholder='{"key": "value"}' />
      </label>
      <ErrorText error={parsed && !parsed.ok ? parsed.error : error} />
      {report && (
        <div className="ok" role="status">
          {report}
        </div>
      )}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="button" className="primary" disabled={!parsed?.ok} onClick={run}>
          Import {parsed?.ok ? parsed.variables.length : ""}
        </button>
      </div>
    </Modal>
  );
}

export function Variables() {
  const [editing, setEditing] = useState<Variable | null | undefined>(undefined);
  const [importing, setImporting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const may = writesOn(useSession().access, "VariableModelView");
  const vars = usePoll(() => api.get<VariableCollection>(url(["/api/v2/variables"], { limit: 100, order_by: "key" })), [], 5000, { kinds: ["variable"] });
  const remove = async (key: string) => {
    if (!window.confirm(`Delete variable ${key}?`)) return;
    try {
      await api.delete(path(key));
      vars.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <header className="page-header">
        <h1>Variables</h1>
        <div className="filters">
          {may.add && may.edit && (
            <button type="button" onClick={() => setImporting(true)}>
              Import JSON
            </button>
          )}
          {may.add && (
            <button type="button" className="primary" onClick={() => setEditing(null)}>
              + Add variable
            </button>
          )}
        </div>
      </header>
      <ErrorText error={vars.error ?? error} />
      {!vars.data ? (
        <Loading what="variables" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th>Description</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {vars.data.variables.map((v) => (
              <tr key={v.key}>
                <td className="mono">{v.key}</td>
                <td className="mono ellipsis">{v.value}</td>
                <td>{v.description}</td>
                <td className="row-actions">
                  {may.edit && (
                    <button type="button" onClick={() => setEditing(v)}>
                      Edit
                    </button>
                  )}
                  {may.remove && (
                    <button type="button" className="danger" onClick={() => remove(v.key)}>
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
        <VariableForm
          existing={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            vars.reload();
          }}
        />
      )}
      {importing && <ImportDialog known={new Set(vars.data?.variables.map((v) => v.key))} onClose={() => setImporting(false)} onDone={vars.reload} />}
    </section>
  );
}
