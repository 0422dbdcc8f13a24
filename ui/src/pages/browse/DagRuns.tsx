import { useState } from "react";
import { Link } from "react-router-dom";
import { api, url } from "../../api/client";
import type { DagRunCollection } from "../../api/types";
import { ErrorText, Loading, StateBadge, Time } from "../../components/common";
import { PAGE_SIZE, Pager } from "../../components/Pager";
import { formatDuration } from "../../lib/time";
import { useDebounced } from "../../lib/useDebounced";
import { usePoll } from "../../lib/usePoll";

export function DagRuns() {
  const [state, setState] = useState("");
  const [dagId, setDagId] = useState("");
  const [offset, setOffset] = useState(0);
  const dagPattern = useDebounced(dagId);
  const runs = usePoll(
    () => api.get<DagRunCollection>(url(["/api/v2/dags", "~", "dagRuns"], { limit: PAGE_SIZE, offset, order_by: "-run_after", state: state || undefined, dag_id_pattern: dagPattern || undefined })),
    [state, dagPattern, offset],
    undefined,
    { kinds: ["dag_run"] },
  );
  return (
    <section>
      <header className="page-header">
        <h1>DAG Runs</h1>
        <div className="filters">
          <input type="search" placeholder="DAG id" aria-label="DAG id" value={dagId} onChange={(e) => { setDagId(e.target.value); setOffset(0); }} />
          <select aria-label="State" value={state} onChange={(e) => { setState(e.target.value); setOffset(0); }}>
            <option value="">All states</option>
            {["queued", "running", "success", "failed"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
      </header>
      <ErrorText error={runs.error} />
      {!runs.data ? (
        <Loading what="runs" />
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>DAG</th>
                <th>Run id</th>
                <th>State</th>
                <th>Type</th>
                <th>Logical date</th>
                <th>Started</th>
                <th>Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.dag_runs.map((r) => (
                <tr key={`${r.dag_id}/${r.dag_run_id}`}>
                  <td>
                    <Link to={`/dags/${encodeURIComponent(r.dag_id)}/grid`}>{r.dag_id}</Link>
                  </td>
                  <td className="mono">
                    <Link to={`/dags/${encodeURIComponent(r.dag_id)}/graph?run=${encodeURIComponent(r.dag_run_id)}`}>{r.dag_run_id}</Link>
                  </td>
                  <td>
                    <StateBadge state={r.state} />
                  </td>
                  <td>{r.run_type}</td>
                  <td>
                    <Time iso={r.logical_date} />
                  </td>
                  <td>
                    <Time iso={r.start_date} />
                  </td>
                  <td>{formatDuration(r.duration)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} total={runs.data.total_entries} onChange={setOffset} />
        </>
      )}
    </section>
  );
}
