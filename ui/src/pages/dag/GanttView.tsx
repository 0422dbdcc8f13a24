import type { DagRun, TaskInstance } from "../../api/types";
import { stateColour } from "../../lib/states";
import { formatDuration, spanSeconds } from "../../lib/time";
import { Time } from "../../components/common";
import type { Selection } from "./DagPage";

interface Props {
  run: DagRun | undefined;
  runs: DagRun[];
  tis: TaskInstance[];
  selection: Selection;
}

/** When each task of one run started and how long it took, on the run's own time axis. */
export function GanttView({ run, runs, tis, selection }: Props) {
  if (!run) return <div className="muted">No run selected.</div>;
  const now = new Date();
  const rows = tis
    .filter((t) => t.dag_run_id === run.dag_run_id && t.start_date)
    .sort((a, b) => (a.start_date ?? "").localeCompare(b.start_date ?? ""));
  const origin = Math.min(...rows.map((t) => new Date(t.start_date as string).getTime()), new Date(run.start_date ?? now).getTime());
  const total = Math.max(0.001, ...rows.map((t) => (new Date(t.start_date as string).getTime() - origin) / 1000 + (spanSeconds(t.start_date, t.end_date, now) ?? 0)));
  return (
    <div className="gantt" data-testid="gantt">
      <div className="toolbar">
        <label className="inline">
          Run
          <select aria-label="Run" value={run.dag_run_id} onChange={(e) => selection.select(e.target.value, selection.taskId)}>
            {runs.map((r) => (
              <option key={r.dag_run_id} value={r.dag_run_id}>
                {r.dag_run_id} ({r.state})
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          from <Time iso={run.start_date} /> · total {formatDuration(total)}
        </span>
      </div>
      {rows.length === 0 && <div className="muted">No task of this run has started yet.</div>}
      {rows.map((ti) => {
        const offset = (new Date(ti.start_date as string).getTime() - origin) / 1000;
        const length = spanSeconds(ti.start_date, ti.end_date, now) ?? 0;
        return (
          <div key={ti.task_id} className="gantt-row">
            <button type="button" className="link label" onClick={() => selection.select(run.dag_run_id, ti.task_id)}>
              {ti.task_id}
            </button>
            <div className="track">
              <button
                type="button"
                className="bar"
                title={`${ti.task_id}: ${ti.state} ${formatDuration(length)}`}
                style={{ left: `${(100 * offset) / total}%`, width: `max(3px, ${(100 * length) / total}%)`, background: stateColour(ti.state) }}
                onClick={() => selection.select(run.dag_run_id, ti.task_id)}
              />
            </div>
            <span className="muted dur">{formatDuration(length)}</span>
          </div>
        );
      })}
    </div>
  );
}
