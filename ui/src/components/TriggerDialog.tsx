import { useState } from "react";
import { triggerRun } from "../api/dags";
import { parseConf } from "../lib/conf";
import { ErrorText, Modal } from "./common";

/** Trigger a run with an optional conf, checked to be a JSON object before anything is sent. */
export function TriggerDialog({ dagId, onClose, onTriggered }: { dagId: string; onClose: () => void; onTriggered: (runId: string) => void }) {
  const [text, setText] = useState("{}");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const parsed = parseConf(text);

  const submit = async () => {
    if (!parsed.ok) return;
    setBusy(true);
    setError(null);
    try {
      const run = await triggerRun(dagId, parsed.conf);
      onTriggered(run.dag_run_id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <Modal title={`Trigger ${dagId}`} onClose={onClose}>
      <label>
        Configuration JSON (optional)
        <textarea className="code" rows={8} value={text} onChange={(e) => setText(e.target.value)} aria-label="Configuration JSON" spellCheck={false} />
      </label>
      <ErrorText error={parsed.ok ? error : parsed.error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={!parsed.ok || busy} onClick={submit}>
          Trigger
        </button>
      </div>
    </Modal>
  );
}
