/** Browse → SLA Misses: task instances that had not succeeded by their ``sla`` deadline, newest first. */
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, url } from "../../api/client";
import { ErrorText, Loading, Time } from "../../components/common";
import { PAGE_SIZE, Pager } from "../../components/Pager";
import { useDebounced } from "../../lib/useDebounced";
import { usePoll } from "../../lib/usePoll";

interface SlaMiss {
  dag_id: string;
  dag_run_id: string;
  task_id: string;
  map_index: number;
  logical_date: string;
  deadline: string;
  timestamp: string;
}

export function SlaMisses() {
  const [dagId, setDagId] = useState("");
  const [offset, setOffset] = useState(0);
  const dag = useDebounced(dagId.trim());
  const misses = usePoll(
    () => api.get<{ sla_misses: SlaMiss[]; total_entries: number }>(url(["/api/couture/slaMisses"], { limit: PAGE_SIZE, offset, dag_id: dag || undefined })),
    [dag, offset],
    10_000,
    { kinds: ["sla_miss"], dagId: dag || undefined },
  );
  return (
    <section>
      <header className="page-header">
        <h1>SLA Misses</h1>
        <div className="filters">
          <input
            type="search"
            placeholder="DAG id"
            aria-label="DAG id"
            value={dagId}
            onChange={(e) => {
              setDagId(e.target.value);
              setOffset(0);
            }}
          />
        </div>
      </header>
      <ErrorText error={misses.error} />
      {!misses.data ? (
        <Loading what="SLA misses" />
      ) : misses.data.total_entries === 0 ? (
        <div className="card muted" data-testid="no-sla-misses">
          No SLA missed{dag ? ` in ${dag}` : ""}. A task misses its SLA when it has not succeeded by the end of its run's data interval plus its <code>sla</code>.
        </div>
      ) : (
        <>
          <table className="table" data-testid="sla-misses">
            <thead>
              <tr>
                <th>DAG</th>
                <th>Task</th>
                <th>Run id</th>
                <th>Logical date</th>
                <th>Deadline</th>
                <th>Noticed</th>
              </tr>
            </thead>
            <tbody>
              {misses.data.sla_misses.map((m) => (
                <tr key={`${m.dag_id}/${m.dag_run_id}/${m.task_id}/${m.map_index}`} data-dag-id={m.dag_id} data-task-id={m.task_id}>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(m.dag_id)}/grid`}>{m.dag_id}</Link>
                  </td>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(m.dag_id)}/grid?run=${encodeURIComponent(m.dag_run_id)}&task=${encodeURIComponent(m.task_id)}`}>
                      {m.task_id}
                      {m.map_index >= 0 ? ` [${m.map_index}]` : ""}
                    </Link>
                  </td>
                  <td className="mono">{m.dag_run_id}</td>
                  <td>
                    <Time iso={m.logical_date} />
                  </td>
                  <td>
                    <Time iso={m.deadline} />
                  </td>
                  <td>
                    <Time iso={m.timestamp} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} total={misses.data.total_entries} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
