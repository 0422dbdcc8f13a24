import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, url } from "../../api/client";
import { ErrorText, Loading, Time } from "../../components/common";
import { PAGE_SIZE, Pager } from "../../components/Pager";
import { NEEDS } from "../../lib/permissions";
import { useDebounced } from "../../lib/useDebounced";
import { usePoll } from "../../lib/usePoll";
import { useSession } from "../../session";
import { AccessLog } from "./AccessLog";

interface EventLog {
  event_log_id: number;
  when: string;
  dag_id: string | null;
  task_id: string | null;
  run_id: string | null;
  try_number: number | null;
  event: string;
  owner: string | null;
  extra: string | null;
}

/**
 * Browse → Audit Logs. Those who may read the access log (Admin) see it first (every login and
 * write, with its source IP, as the manual describes) and Airflow's DAG event log beside it, when
 * they may read that too; everyone else the DAG event log.
 */
export function AuditLogs() {
  const { access } = useSession();
  const [params, setParams] = useSearchParams();
  const accessLog = access.may(NEEDS.accessLog);
  const eventLog = access.may(NEEDS.dagEventLog);
  const view = accessLog && (!eventLog || params.get("view") !== "events") ? "access" : "events";
  return (
    <section>
      <header className="page-header">
        <h1>Audit Logs</h1>
        {accessLog && eventLog && (
          <nav className="tabs" role="tablist" aria-label="Audit log">
            {(["access", "events"] as const).map((v) => (
              <button key={v} type="button" role="tab" aria-selected={view === v} className={view === v ? "active" : ""} onClick={() => setParams(v === "access" ? {} : { view: v })}>
                {v === "access" ? "Logins and changes" : "DAG events"}
              </button>
            ))}
          </nav>
        )}
      </header>
      {view === "access" ? <AccessLog /> : <DagEventLog />}
    </section>
  );
}

/** Airflow's event log: triggers, pauses, clears, edits, newest first. */
function DagEventLog() {
  const [dagId, setDagId] = useState("");
  const [event, setEvent] = useState("");
  const [owner, setOwner] = useState("");
  const [offset, setOffset] = useState(0);
  const filters = { dagId: useDebounced(dagId), event: useDebounced(event), owner: useDebounced(owner) };
  const logs = usePoll(
    () =>
      api.get<{ event_logs: EventLog[]; total_entries: number }>(
        url(["/api/v2/eventLogs"], {
          limit: PAGE_SIZE,
          offset,
          order_by: "-when",
          dag_id_pattern: filters.dagId || undefined,
          event_pattern: filters.event || undefined,
          owner_pattern: filters.owner || undefined,
        }),
      ),
    [filters.dagId, filters.event, filters.owner, offset],
    3000,
    { kinds: ["dag", "dag_run", "task_instance"] },
  );
  const filter = (set: (v: string) => void) => (e: React.ChangeEvent<HTMLInputElement>) => {
    set(e.target.value);
    setOffset(0);
  };
  return (
    <div data-testid="dag-event-log">
      <div className="filters">
        <input type="search" placeholder="DAG id" aria-label="DAG id" value={dagId} onChange={filter(setDagId)} />
        <input type="search" placeholder="Event" aria-label="Event" value={event} onChange={filter(setEvent)} />
        <input type="search" placeholder="User" aria-label="User" value={owner} onChange={filter(setOwner)} />
      </div>
      <ErrorText error={logs.error} />
      {!logs.data ? (
        <Loading what="audit logs" />
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>When</th>
                <th>Event</th>
                <th>User</th>
                <th>DAG</th>
                <th>Task</th>
                <th>Run id</th>
                <th>Extra</th>
              </tr>
            </thead>
            <tbody>
              {logs.data.event_logs.map((e) => (
                <tr key={e.event_log_id}>
                  <td>
                    <Time iso={e.when} />
                  </td>
                  <td>{e.event}</td>
                  <td>{e.owner}</td>
                  <td>{e.dag_id && <Link to={`/dags/${encodeURIComponent(e.dag_id)}/grid`}>{e.dag_id}</Link>}</td>
                  <td>{e.task_id}</td>
                  <td className="mono">{e.run_id}</td>
                  <td className="mono ellipsis" title={e.extra ?? ""}>
                    {e.extra}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager offset={offset} total={logs.data.total_entries} onChange={setOffset} />
        </>
      )}
    </div>
  );
}
