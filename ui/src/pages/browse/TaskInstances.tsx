import { useState } from "react";
import { Link } from "react-router-dom";
import { api, url } from "../../api/client";
import type { TaskInstanceCollection } from "../../api/types";
import { ErrorText, Loading, StateBadge, Time } from "../../components/common";
import { PAGE_SIZE, Pager } from "../../components/Pager";
import { TASK_STATES } from "../../lib/states";
import { formatDuration } from "../../lib/time";
import { useDebounced } from "../../lib/useDebounced";
import { usePoll } from "../../lib/usePoll";

export function TaskInstances() {
  const [state, setState] = useState("");
  const [dagId, setDagId] = useState("");
  const [offset, setOffset] = useState(0);
  const dagPattern = useDebounced(dagId);
  const tis = usePoll(
    () =>
      api.get<TaskInstanceCollection>(
        url(["/api/v2/dags", "~", "dagRuns", "~", "taskInstances"], { limit: PAGE_SIZE, offset, order_by: "-start_date", state: state || undefined, dag_id_pattern: dagPattern || undefined }),
      ),
    [state, dagPattern, offset],
    undefined,
    { kinds: ["task_instance"] },
  );
  return (
    <section>
      <header className="page-header">
        <h1>Task Instances</h1>
        <div className="filters">
          <input type="search" placeholder="DAG id" aria-label="DAG id" value={dagId} onChange={(e) => { setDagId(e.target.value); setOffset(0); }} />
          <select aria-label="State" value={state} onChange={(e) => { setState(e.target.value); setOffset(0); }}>
            <option value="">All states</option>
            {TASK_STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
      </header>
      <ErrorText error={tis.error} />
      {!tis.data ? (
        <Loading what="task instances" />
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>DAG</th>
                <th>Task</th>
                <th>Run id</th>
                <th>State</th>
                <th>Try</th>
                <th>Started</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {tis.data.task_instances.map((ti) => (
                <tr key={ti.id}>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(ti.dag_id)}/grid`}>{ti.dag_id}</Link>
                  </td>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(ti.dag_id)}/grid?run=${encodeURIComponent(ti.dag_run_id)}&task=${encodeURIComponent(ti.task_id)}`}>{ti.task_id}</Link>
                  </td>
                  <td className="mono">{ti.dag_run_id}</td>
                  <td>
                    <StateBadge state={ti.state} />
                  </td>
                  <td>{ti.try_number}</td>
                  <td>
                    <Time iso={ti.start_date} />
                  </td>
                  <td>{formatDuration(ti.duration)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} total={tis.data.total_entries} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
