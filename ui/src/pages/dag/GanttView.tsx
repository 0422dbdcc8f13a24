import { getTries } from "../../api/dags";
import type { DagRun, TaskInstance, TaskInstanceTry } from "../../api/types";
import { ErrorText, Time } from "../../components/common";
import { ganttChart } from "../../lib/gantt";
import { stateColour } from "../../lib/states";
import { formatDuration } from "../../lib/time";
import { usePoll } from "../../lib/usePoll";
import type { Selection } from "./DagPage";
import "./dagViews.css";

interface Props {
  run: DagRun | undefined;
  runs: DagRun[];
  tis: TaskInstance[];
  selection: Selection;
}

/** The recorded tries of the run's tasks that ran more than once (a task that ran once is its own try). */
async function retriedTries(run: DagRun, tis: TaskInstance[]): Promise<Map<string, TaskInstanceTry[]>> {
  const retried = tis.filter((t) => t.try_number > 1);
  const tries = await Promise.all(retried.map((t) => getTries(run.dag_id, run.dag_run_id, t.task_id)));
  return new Map(retried.map((t, i) => [t.task_id, tries[i]]));
}

/** When each try of each task of one run started and how long it took, on the run's own time axis. */
export function GanttView({ run, runs, tis, selection }: Props) {
  const ofRun = run ? tis.filter((t) => t.dag_run_id === run.dag_run_id) : [];
  // Fetched again whenever a task of the run starts another try or changes state.
  const key = ofRun.map((t) => `${t.task_id}:${t.try_number}:${t.state}`).join(",");
  const tries = usePoll(run ? () => retriedTries(run, ofRun) : null, [run?.dag_id, run?.dag_run_id, key], 0);
  if (!run) return <div className="muted">No run selected.</div>;
  const now = new Date();
  const chart = ganttChart(ofRun, tries.data ?? new Map(), run.start_date, now);
  const current = new Map(ofRun.map((t) => [t.task_id, t.try_number]));
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
          from <Time iso={run.start_date} /> · total {formatDuration(chart.total)}
        </span>
      </div>
      <ErrorText error={tries.error} />
      {chart.rows.length === 0 && <div className="muted">No task of this run has started yet.</div>}
      {chart.rows.map((row) => {
        const last = row.bars[row.bars.length - 1];
        return (
          <div key={row.taskId} className="gantt-row" data-task-id={row.taskId} data-tries={row.bars.length}>
            <button type="button" className="link label" onClick={() => selection.select(run.dag_run_id, row.taskId)}>
              {row.taskId}
            </button>
            <div className="track">
              {row.bars.map((bar) => (
                <button
                  key={bar.tryNumber}
                  type="button"
                  className={`bar ${bar.tryNumber === current.get(row.taskId) ? "" : "older-try"}`}
                  data-try={bar.tryNumber}
                  data-state={bar.state ?? "none"}
                  aria-label={`${row.taskId} try ${bar.tryNumber}: ${bar.state ?? "no status"}`}
                  title={`${row.taskId} try ${bar.tryNumber}: ${bar.state ?? "no status"} ${formatDuration(bar.length)}`}
                  style={{
                    left: `${(100 * bar.offset) / chart.total}%`,
                    width: `max(3px, ${(100 * bar.length) / chart.total}%)`,
                    background: stateColour(bar.state),
                  }}
                  onClick={() => selection.select(run.dag_run_id, row.taskId)}
                />
              ))}
            </div>
            <span className="muted dur">{formatDuration(last.length)}</span>
          </div>
        );
      })}
    </div>
  );
}
