/** The access log (Admin only): every login attempt and every change, who made it, from which address. */
import { useState } from "react";
import { Link } from "react-router-dom";
import { api, url } from "../../api/client";
import { ErrorText, Loading, Time } from "../../components/common";
import { PAGE_SIZE, Pager } from "../../components/Pager";
import { useDebounced } from "../../lib/useDebounced";
import { usePoll } from "../../lib/usePoll";
import { zonedToIso } from "../../lib/zonedInput";
import { useSession } from "../../session";

interface AuditEntry {
  audit_log_id: number;
  when: string;
  username: string | null;
  action: string;
  method: string;
  path: string;
  dag_id: string | null;
  target: string | null;
  source_ip: string | null;
  outcome: "success" | "denied" | "failed" | "error";
  status_code: number;
  request_id: string;
}

const OUTCOMES = ["success", "denied", "failed", "error"] as const;
/** Suggestions for the action filter: the operation ids people look for most. */
const COMMON_ACTIONS = ["login", "trigger_dag_run", "patch_dag", "post_clear_task_instances", "patch_task_instance", "post_variable", "patch_variable", "delete_variable", "post_connection", "post_user", "patch_user", "post_role", "patch_role", "delete_role", "change_my_password"];

export function AccessLog() {
  const { timeZone } = useSession();
  const [username, setUsername] = useState("");
  const [action, setAction] = useState("");
  const [dagId, setDagId] = useState("");
  const [outcome, setOutcome] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [offset, setOffset] = useState(0);
  const typed = { username: useDebounced(username.trim()), action: useDebounced(action.trim()), dagId: useDebounced(dagId.trim()) };
  const range = { since: zonedToIso(since, timeZone), until: zonedToIso(until, timeZone) };
  const logs = usePoll(
    () =>
      api.get<{ audit_logs: AuditEntry[]; total_entries: number }>(
        url(["/api/couture/auditLogs"], {
          limit: PAGE_SIZE,
          offset,
          username: typed.username || undefined,
          action: typed.action || undefined,
          dag_id: typed.dagId || undefined,
          outcome: outcome || undefined,
          since: range.since ?? undefined,
          until: range.until ?? undefined,
        }),
      ),
    [typed.username, typed.action, typed.dagId, outcome, range.since, range.until, offset],
    5000,
    { kinds: ["audit"] },
  );
  const set = (setter: (v: string) => void) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
    setter(e.target.value);
    setOffset(0);
  };
  return (
    <div data-testid="access-log">
      <div className="filters">
        <input type="search" placeholder="User" aria-label="User" value={username} onChange={set(setUsername)} />
        <input type="search" placeholder="Action" aria-label="Action" list="audit-actions" value={action} onChange={set(setAction)} />
        <datalist id="audit-actions">
          {COMMON_ACTIONS.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <input type="search" placeholder="DAG id" aria-label="DAG id" value={dagId} onChange={set(setDagId)} />
        <select aria-label="Outcome" value={outcome} onChange={set(setOutcome)}>
          <option value="">All outcomes</option>
          {OUTCOMES.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        <label className="inline" title={`In ${timeZone}`}>
          From <input type="datetime-local" aria-label="From" value={since} onChange={set(setSince)} />
        </label>
        <label className="inline" title={`In ${timeZone}`}>
          To <input type="datetime-local" aria-label="To" value={until} onChange={set(setUntil)} />
        </label>
      </div>
      <ErrorText error={logs.error} />
      {!logs.data ? (
        <Loading what="the access log" />
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th>When</th>
                <th>User</th>
                <th>Action</th>
                <th>Outcome</th>
                <th>DAG</th>
                <th>Target</th>
                <th>Source IP</th>
                <th>Request</th>
              </tr>
            </thead>
            <tbody>
              {logs.data.audit_logs.map((e) => (
                <tr key={e.audit_log_id} data-action={e.action} data-outcome={e.outcome}>
                  <td>
                    <Time iso={e.when} />
                  </td>
                  <td>{e.username ?? <span className="muted">unknown</span>}</td>
                  <td className="mono">{e.action}</td>
                  <td>
                    <span className={`outcome ${e.outcome}`} title={`HTTP ${e.status_code}`}>
                      {e.outcome}
                    </span>
                  </td>
                  <td>{e.dag_id && <Link to={`/dags/${encodeURIComponent(e.dag_id)}/grid`}>{e.dag_id}</Link>}</td>
                  <td className="mono ellipsis" title={e.target ?? ""}>
                    {e.target}
                  </td>
                  <td className="mono">{e.source_ip}</td>
                  <td className="mono small" title={e.request_id}>
                    {e.method} {e.path}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {logs.data.total_entries === 0 && <div className="muted">Nothing recorded matches these filters.</div>}
          <Pager offset={offset} total={logs.data.total_entries} onChange={setOffset} />
        </>
      )}
    </div>
  );
}
