import { useState } from "react";
import { api, url } from "../../api/client";
import type { Pool, PoolCollection } from "../../api/types";
import { ErrorText, Loading, Modal } from "../../components/common";
import { updateMask } from "../../lib/masks";
import { writesOn } from "../../lib/permissions";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";

function PoolForm({ existing, onClose, onSaved }: { existing: Pool | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(existing?.name ?? "");
  const [slots, setSlots] = useState(String(existing?.slots ?? 16));
  const [description, setDescription] = useState(existing?.description ?? "");
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    if (!/^-?\d+$/.test(slots.trim())) {
      setError("slots: must be a whole number (-1 for unlimited)");
      return;
    }
    const body = { name, slots: Number(slots), description: description || null };
    try {
      if (existing) await api.patch(url(["/api/v2/pools", existing.name]) + updateMask(["slots", "description"]), body);
      else await api.post(url(["/api/v2/pools"]), body);
      onSaved();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Modal title={existing ? `Edit ${existing.name}` : "Add pool"} onClose={onClose}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} disabled={!!existing} />
      </label>
      <label>
        Slots
        <input value={slots} inputMode="numeric" onChange={(e) => setSlots(e.target.value)} />
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
        <button type="button" className="primary" disabled={!name} onClick={save}>
          Save
        </button>
      </div>
    </Modal>
  );
}

export function Pools() {
  const [editing, setEditing] = useState<Pool | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const may = writesOn(useSession().access, "PoolModelView");
  const pools = usePoll(() => api.get<PoolCollection>(url(["/api/v2/pools"], { limit: 100 })), [], undefined, { kinds: ["pool", "task_instance"] });
  const remove = async (name: string) => {
    if (!window.confirm(`Delete pool ${name}?`)) return;
    try {
      await api.delete(url(["/api/v2/pools", name]));
      pools.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <section>
      <header className="page-header">
        <h1>Pools</h1>
        {may.add && (
          <button type="button" className="primary" onClick={() => setEditing(null)}>
            + Add pool
          </button>
        )}
      </header>
      <ErrorText error={pools.error ?? error} />
      {!pools.data ? (
        <Loading what="pools" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Pool</th>
              <th>Slots</th>
              <th>Running</th>
              <th>Queued</th>
              <th>Scheduled</th>
              <th>Open</th>
              <th>Description</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {pools.data.pools.map((p) => (
              <tr key={p.name}>
                <td className="mono">{p.name}</td>
                <td>{p.slots}</td>
                <td>{p.running_slots}</td>
                <td>{p.queued_slots}</td>
                <td>{p.scheduled_slots}</td>
                <td>{p.open_slots}</td>
                <td>{p.description}</td>
                <td className="row-actions">
                  {may.edit && (
                    <button type="button" onClick={() => setEditing(p)}>
                      Edit
                    </button>
                  )}
                  {may.remove && p.name !== "default_pool" && (
                    <button type="button" className="danger" onClick={() => remove(p.name)}>
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
        <PoolForm
          existing={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            pools.reload();
          }}
        />
      )}
    </section>
  );
}
