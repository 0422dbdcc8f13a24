import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, url } from "../api/client";
import { setPaused } from "../api/dags";
import { tagNames, type DagCollection, type DagStatsCollection, type ImportErrorCollection } from "../api/types";
import { ErrorText, Loading, Switch, Time } from "../components/common";
import { PAGE_SIZE, Pager } from "../components/Pager";
import { TriggerDialog } from "../components/TriggerDialog";
import { NEEDS } from "../lib/permissions";
import { RUN_STATES, stateColour, stateTextColour } from "../lib/states";
import { useDebounced } from "../lib/useDebounced";
import { usePoll } from "../lib/usePoll";
import { useSession } from "../session";

function ImportErrors() {
  const { data } = usePoll(() => api.get<ImportErrorCollection>(url(["/api/v2/importErrors"], { limit: 100 })), [], 5000, { kinds: ["import_error"] });
  const [open, setOpen] = useState(false);
  if (!data || data.total_entries === 0) return null;
  return (
    <div className="banner error" role="alert" data-testid="import-errors">
      <button type="button" className="link" onClick={() => setOpen(!open)}>
        {data.total_entries} DAG import error{data.total_entries === 1 ? "" : "s"} {open ? "▴" : "▾"}
      </button>
      {open &&
        data.import_errors.map((e) => (
          <details key={e.import_error_id} open>
            <summary>
              {e.filename} · <Time iso={e.timestamp} />
            </summary>
            <pre>{e.stack_trace}</pre>
          </details>
        ))}
    </div>
  );
}

function RunCounts({ stats }: { stats: { state: string; count: number }[] | undefined }) {
  return (
    <div className="run-counts">
      {RUN_STATES.map((state) => {
        const count = stats?.find((s) => s.state === state)?.count ?? 0;
        return (
          <span
            key={state}
            className={`count-circle ${count ? "" : "zero"}`}
            title={`${count} ${state} run${count === 1 ? "" : "s"}`}
            data-state={state}
            style={count ? { background: stateColour(state), color: stateTextColour(state), borderColor: stateColour(state) } : { borderColor: stateColour(state) }}
          >
            {count || ""}
          </span>
        );
      })}
    </div>
  );
}

export function DagsList() {
  const { access } = useSession();
  const navigate = useNavigate();
  const [showPaused, setShowPaused] = useState(false);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const [owner, setOwner] = useState("");
  const [offset, setOffset] = useState(0);
  const [trigger, setTrigger] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const searched = useDebounced(search);
  const ownedBy = useDebounced(owner);
  const query = {
    limit: PAGE_SIZE,
    offset,
    order_by: "dag_id",
    paused: showPaused ? undefined : "false",
    dag_id_pattern: searched || undefined,
    tags: tag || undefined,
    owners: ownedBy || undefined,
  };
  const dags = usePoll(() => api.get<DagCollection>(url(["/api/v2/dags"], query)), [showPaused, searched, tag, ownedBy, offset], undefined, {
    kinds: ["dag", "dag_run"],
  });
  const ids = dags.data?.dags.map((d) => d.dag_id) ?? [];
  const stats = usePoll(
    ids.length ? () => api.get<DagStatsCollection>(`/api/v2/dagStats?${ids.map((id) => `dag_ids=${encodeURIComponent(id)}`).join("&")}`) : null,
    [ids.join(",")],
    undefined,
    { kinds: ["dag_run", "task_instance"] },
  );
  const tags = usePoll(() => api.get<{ tags: string[] }>("/api/v2/dagTags?limit=100"), [], 10000, { kinds: ["dag"] });

  const toggle = async (dagId: string, on: boolean) => {
    setActionError(null);
    try {
      await setPaused(dagId, !on);
      dags.reload();
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section>
      {access.may(NEEDS.importErrors) && <ImportErrors />}
      <header className="page-header">
        <h1>DAGs</h1>
        <div className="filters">
          <input type="search" placeholder="Search DAGs" aria-label="Search DAGs" value={search} onChange={(e) => { setSearch(e.target.value); setOffset(0); }} />
          <select aria-label="Filter by tag" value={tag} onChange={(e) => { setTag(e.target.value); setOffset(0); }}>
            <option value="">All tags</option>
            {tags.data?.tags.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
          <input placeholder="Owner" aria-label="Filter by owner" value={owner} onChange={(e) => { setOwner(e.target.value); setOffset(0); }} />
          <label className="inline">
            <Switch on={showPaused} onChange={(on) => { setShowPaused(on); setOffset(0); }} label="Show Paused DAGs" /> Show Paused DAGs
          </label>
        </div>
      </header>
      <ErrorText error={dags.error ?? actionError} />
      {!dags.data ? (
        <Loading what="DAGs" />
      ) : (
        <table className="table dags">
          <thead>
            <tr>
              <th />
              <th>DAG</th>
              <th>Owner</th>
              <th>Runs</th>
              <th>Schedule</th>
              <th>Next run</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {dags.data.dags.map((dag) => (
              <tr key={dag.dag_id} data-dag-id={dag.dag_id}>
                <td>
                  <Switch
                    on={!dag.is_paused}
                    onChange={(on) => toggle(dag.dag_id, on)}
                    label={`${dag.is_paused ? "Unpause" : "Pause"} ${dag.dag_id}`}
                    disabled={!access.mayOnDag(NEEDS.pause, dag.dag_id)}
                  />
                </td>
                <td>
                  <Link to={`/dags/${encodeURIComponent(dag.dag_id)}/grid`} className="dag-link">
                    {dag.dag_display_name}
                  </Link>
                  <div className="tags">
                    {tagNames(dag).map((t) => (
                      <button type="button" key={t} className="tag" onClick={() => setTag(t)}>
                        {t}
                      </button>
                    ))}
                  </div>
                </td>
                <td>{dag.owners.join(", ")}</td>
                <td>
                  <RunCounts stats={stats.data?.dags.find((s) => s.dag_id === dag.dag_id)?.stats} />
                </td>
                <td title={dag.timetable_description ?? ""}>{dag.timetable_summary ?? "None"}</td>
                <td>
                  <Time iso={dag.next_dagrun_run_after} />
                </td>
                <td>
                  {access.mayOnDag(NEEDS.trigger, dag.dag_id) && (
                    <button type="button" className="icon trigger" aria-label={`Trigger ${dag.dag_id}`} title="Trigger DAG" onClick={() => setTrigger(dag.dag_id)}>
                      ▶
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {dags.data.dags.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No DAGs match{showPaused ? "" : " (paused DAGs are hidden)"}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <Pager offset={offset} total={dags.data?.total_entries ?? 0} onChange={setOffset} />
      {trigger && (
        <TriggerDialog
          dagId={trigger}
          onClose={() => setTrigger(null)}
          onTriggered={(runId) => {
            const dagId = trigger;
            setTrigger(null);
            navigate(`/dags/${encodeURIComponent(dagId)}/graph?run=${encodeURIComponent(runId)}`);
          }}
        />
      )}
    </section>
  );
}
