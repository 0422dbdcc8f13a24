import { useState } from "react";
import { clearTask, markTask } from "../../api/dags";
import type { Task, TaskInstance } from "../../api/types";
import { ErrorText, Modal, StateBadge, Time } from "../../components/common";
import { NEEDS, type Need } from "../../lib/permissions";
import { formatDuration } from "../../lib/time";
import { useSession } from "../../session";
import { LogView } from "./LogView";
import { RenderedView } from "./RenderedView";
import { XComView } from "./XComView";
import { useZoom } from "./zoom";

type PanelTab = "details" | "log" | "xcom" | "rendered";
const PANEL_TABS: [PanelTab, string][] = [
  ["details", "Details"],
  ["log", "Log"],
  ["xcom", "XCom"],
  ["rendered", "Rendered"],
];
/** What a tab's endpoint needs beyond seeing the task instance (shown only when granted). */
const PANEL_TAB_NEEDS: Partial<Record<PanelTab, Need>> = {
  log: ["can_log", "Airflow"],
  xcom: ["can_xcom", "Airflow"],
  rendered: ["can_tries", "Airflow"],
};

function ClearDialog({ ti, onClose, onDone }: { ti: TaskInstance; onClose: () => void; onDone: () => void }) {
  const [downstream, setDownstream] = useState(true);
  const [upstream, setUpstream] = useState(false);
  const [onlyFailed, setOnlyFailed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    try {
      await clearTask(ti, { includeDownstream: downstream, includeUpstream: upstream, onlyFailed });
      onDone();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Modal title={`Clear ${ti.task_id}`} onClose={onClose}>
      <p>The task instance runs again; the options below clear its relatives in this run too.</p>
      <label className="inline">
        <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.target.checked)} /> Downstream
      </label>
      <label className="inline">
        <input type="checkbox" checked={upstream} onChange={(e) => setUpstream(e.target.checked)} /> Upstream
      </label>
      <label className="inline">
        <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.target.checked)} /> Only failed
      </label>
      <ErrorText error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={submit}>
          Confirm clear
        </button>
      </div>
    </Modal>
  );
}

export function TaskInstancePanel({ ti, task, onClose, onChanged }: { ti: TaskInstance; task: Task | undefined; onClose: () => void; onChanged: () => void }) {
  const { access } = useSession();
  const mayClear = access.mayOnDag(NEEDS.clearTasks, ti.dag_id);
  const mayMark = access.mayOnDag(NEEDS.markTasks, ti.dag_id);
  const [tab, setTab] = useState<PanelTab>("details");
  const [clearing, setClearing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const zoom = useZoom();
  const mark = async (state: "success" | "failed") => {
    setError(null);
    try {
      await markTask(ti, state);
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div className="card ti-panel" data-testid="task-instance-panel">
      <header>
        <h2>
          {ti.task_id} <StateBadge state={ti.state} />
        </h2>
        <button type="button" className="icon" aria-label="Close task panel" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="mono muted small">{ti.dag_run_id}</div>
      {task?.couture_run_dag_id && (
        <div className="actions left">
          <button type="button" onClick={() => void zoom.into(task, ti.dag_run_id)} title={`Open the graph of ${task.couture_run_dag_id} on the run this task triggered`}>
            Zoom into DAG {task.couture_run_dag_id}
          </button>
        </div>
      )}
      <ErrorText error={zoom.error} />
      {(mayClear || mayMark) && (
        <div className="actions left">
          {mayClear && (
            <button type="button" onClick={() => setClearing(true)}>
              Clear
            </button>
          )}
          {mayMark && (
            <>
              <button type="button" onClick={() => mark("success")}>
                Mark success
              </button>
              <button type="button" onClick={() => mark("failed")}>
                Mark failed
              </button>
            </>
          )}
        </div>
      )}
      <ErrorText error={error} />
      <nav className="tabs small">
        {PANEL_TABS.filter(([t]) => {
          const need = PANEL_TAB_NEEDS[t];
          return !need || access.mayOnDag(need, ti.dag_id);
        }).map(([t, label]) => (
          <button key={t} type="button" className={t === tab ? "active" : ""} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </nav>
      {tab === "details" && (
        <dl className="props">
          <dt>State</dt>
          <dd>
            <StateBadge state={ti.state} />
          </dd>
          <dt>Try</dt>
          <dd>
            {ti.try_number} of {ti.max_tries + 1}
          </dd>
          <dt>Operator</dt>
          <dd>{ti.operator_name ?? task?.operator_name}</dd>
          <dt>Trigger rule</dt>
          <dd>{task?.trigger_rule}</dd>
          <dt>Started</dt>
          <dd>
            <Time iso={ti.start_date} />
          </dd>
          <dt>Ended</dt>
          <dd>
            <Time iso={ti.end_date} />
          </dd>
          <dt>Duration</dt>
          <dd>{formatDuration(ti.duration)}</dd>
          <dt>Pool</dt>
          <dd>{ti.pool}</dd>
          <dt>Queue</dt>
          <dd>{ti.queue}</dd>
          <dt>Host</dt>
          <dd>{ti.hostname ?? "—"}</dd>
          <dt>PID</dt>
          <dd>{ti.pid ?? "—"}</dd>
        </dl>
      )}
      {tab === "log" && <LogView ti={ti} />}
      {tab === "xcom" && <XComView ti={ti} />}
      {tab === "rendered" && <RenderedView ti={ti} />}
      {clearing && (
        <ClearDialog
          ti={ti}
          onClose={() => setClearing(false)}
          onDone={() => {
            setClearing(false);
            onChanged();
          }}
        />
      )}
    </div>
  );
}
