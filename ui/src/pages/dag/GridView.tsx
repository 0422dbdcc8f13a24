import type { DagRun, Task, TaskInstance } from "../../api/types";
import { topologicalOrder } from "../../lib/graphLayout";
import { stateColour } from "../../lib/states";
import { formatDuration } from "../../lib/time";
import type { Selection } from "./DagPage";

interface Props {
  tasks: Task[];
  runs: DagRun[];
  tis: TaskInstance[];
  selection: Selection;
}

/** Runs as columns (oldest on the left, like Airflow), tasks as rows, each cell the task's state. */
export function GridView({ tasks, runs, tis, selection }: Props) {
  const columns = [...runs].reverse();
  const rows = topologicalOrder(tasks);
  const byKey = new Map(tis.map((ti) => [`${ti.dag_run_id}\u0000${ti.task_id}`, ti]));
  const longest = Math.max(1, ...runs.map((r) => r.duration ?? 0));
  if (tasks.length === 0) return <div className="muted">This DAG has no tasks.</div>;
  return (
    <div className="grid-view" data-testid="grid">
      <table>
        <thead>
          <tr>
            <th className="task-col" />
            {columns.map((run) => (
              <th key={run.dag_run_id}>
                <button
                  type="button"
                  className={`run-bar ${run.dag_run_id === selection.runId ? "selected" : ""}`}
                  title={`${run.dag_run_id}\n${run.state} ${formatDuration(run.duration)}`}
                  aria-label={`Run ${run.dag_run_id}`}
                  data-state={run.state}
                  onClick={() => selection.select(run.dag_run_id, null)}
                >
                  <span style={{ height: `${8 + 40 * ((run.duration ?? 0) / longest)}px`, background: stateColour(run.state) }} />
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((taskId) => (
            <tr key={taskId} className={taskId === selection.taskId ? "selected-row" : ""}>
              <th className="task-col">
                <button type="button" className="link" onClick={() => selection.select(selection.runId, taskId)}>
                  {taskId}
                </button>
              </th>
              {columns.map((run) => {
                const ti = byKey.get(`${run.dag_run_id}\u0000${taskId}`);
                const selected = run.dag_run_id === selection.runId && taskId === selection.taskId;
                return (
                  <td key={run.dag_run_id}>
                    <button
                      type="button"
                      className={`cell ${selected ? "selected" : ""}`}
                      data-task-id={taskId}
                      data-run-id={run.dag_run_id}
                      data-state={ti?.state ?? "none"}
                      title={`${taskId}\n${ti?.state ?? "no status"} ${formatDuration(ti?.duration)}`}
                      aria-label={`${taskId} in ${run.dag_run_id}: ${ti?.state ?? "no status"}`}
                      style={{ background: stateColour(ti?.state) }}
                      onClick={() => selection.select(run.dag_run_id, taskId)}
                    />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <Legend />
    </div>
  );
}

export function Legend() {
  const states = ["success", "running", "failed", "upstream_failed", "skipped", "up_for_retry", "queued", "scheduled", "deferred", "removed"];
  return (
    <div className="legend">
      {states.map((s) => (
        <span key={s}>
          <i style={{ background: stateColour(s) }} /> {s}
        </span>
      ))}
      <span>
        <i style={{ background: stateColour(null) }} /> no status
      </span>
    </div>
  );
}
