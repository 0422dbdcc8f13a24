import { lazy, Suspense, useState } from "react";
import { NavLink, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { setPaused } from "../../api/dags";
import { ErrorText, Loading, StateBadge, Switch, Time } from "../../components/common";
import { TriggerDialog } from "../../components/TriggerDialog";
import { NEEDS, type Need } from "../../lib/permissions";
import { formatDuration } from "../../lib/time";
import { useSession } from "../../session";
import { CodeView } from "./CodeView";
import { DetailsView } from "./DetailsView";
import { DurationView } from "./DurationView";
import { GanttView } from "./GanttView";
import { GridView } from "./GridView";
import { TaskInstancePanel } from "./TaskInstancePanel";
import { useDagData } from "./useDagData";
import { ZoomTrail } from "./zoom";

// The graph library is most of the bundle's weight: load it when the Graph tab first opens.
const GraphView = lazy(() => import("./GraphView").then((module) => ({ default: module.GraphView })));

const TABS = [
  ["grid", "Grid"],
  ["graph", "Graph"],
  ["gantt", "Gantt"],
  ["duration", "Task Duration"],
  ["code", "Code"],
  ["details", "Details"],
] as const;

export type DagTab = (typeof TABS)[number][0];
/** What a tab's endpoint needs beyond seeing the DAG (shown only when granted). */
const TAB_NEEDS: Partial<Record<DagTab, Need>> = { code: ["can_code", "Airflow"] };

export interface Selection {
  runId: string | null;
  taskId: string | null;
  select: (runId: string | null, taskId: string | null) => void;
}

export function DagPage() {
  const { dagId = "", tab = "grid" } = useParams();
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const { access } = useSession();
  const [runCount, setRunCount] = useState(25);
  const [triggering, setTriggering] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const data = useDagData(dagId, runCount);

  const runId = params.get("run") ?? data.runs?.[0]?.dag_run_id ?? null;
  const taskId = params.get("task");
  const selection: Selection = {
    runId,
    taskId,
    select: (run, task) => {
      const next = new URLSearchParams(params);
      if (run) next.set("run", run);
      else next.delete("run");
      if (task) next.set("task", task);
      else next.delete("task");
      setParams(next, { replace: true });
    },
  };
  const run = data.runs?.find((r) => r.dag_run_id === runId);
  const ti = data.tis?.find((t) => t.dag_run_id === runId && t.task_id === taskId);

  const togglePaused = async (on: boolean) => {
    setActionError(null);
    try {
      await setPaused(dagId, !on);
      data.reload();
    } catch (e) {
      setActionError(e instanceof Error ? e.message : String(e));
    }
  };

  if (!data.dag) return data.error ? <ErrorText error={data.error} /> : <Loading what={dagId} />;
  const dag = data.dag;
  const tasks = data.tasks?.tasks ?? [];
  return (
    <section className="dag-page">
      <ZoomTrail dagId={dagId} />
      <header className="page-header">
        <div className="title">
          <Switch on={!dag.is_paused} onChange={togglePaused} label={`${dag.is_paused ? "Unpause" : "Pause"} ${dagId}`} disabled={!access.mayOnDag(NEEDS.pause, dagId)} />
          <h1>
            <span className="muted">DAG:</span> {dag.dag_display_name}
          </h1>
          {dag.description && <span className="muted">{dag.description}</span>}
        </div>
        <div className="filters">
          <label className="inline">
            Runs
            <select aria-label="Number of runs" value={runCount} onChange={(e) => setRunCount(Number(e.target.value))}>
              {[5, 10, 25, 50, 100].map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
          {access.mayOnDag(NEEDS.trigger, dagId) && (
            <button type="button" className="primary" onClick={() => setTriggering(true)} aria-label={`Trigger ${dagId}`}>
              ▶ Trigger
            </button>
          )}
        </div>
      </header>
      <ErrorText error={data.error ?? actionError} />
      <nav className="tabs">
        {TABS.filter(([key]) => {
          const need = TAB_NEEDS[key];
          return !need || access.mayOnDag(need, dagId);
        }).map(([key, label]) => (
          <NavLink key={key} to={{ pathname: `/dags/${encodeURIComponent(dagId)}/${key}`, search: params.toString() }} className={key === tab ? "active" : ""}>
            {label}
          </NavLink>
        ))}
      </nav>
      <div className="dag-body">
        <div className="dag-main">
          {tab === "grid" && <GridView tasks={tasks} runs={data.runs ?? []} tis={data.tis ?? []} selection={selection} />}
          {tab === "graph" && (
            <Suspense fallback={<Loading what="graph" />}>
              <GraphView tasks={tasks} runs={data.runs ?? []} tis={data.tis ?? []} selection={selection} />
            </Suspense>
          )}
          {tab === "gantt" && <GanttView run={run} tis={data.tis ?? []} runs={data.runs ?? []} selection={selection} />}
          {tab === "duration" && <DurationView tasks={tasks} runs={data.runs ?? []} tis={data.tis ?? []} />}
          {tab === "code" && <CodeView dagId={dagId} />}
          {tab === "details" && <DetailsView dag={dag} tasks={tasks} />}
        </div>
        {(tab === "grid" || tab === "graph" || tab === "gantt") && (
          <aside className="side-panel">
            {ti ? (
              <TaskInstancePanel ti={ti} task={tasks.find((t) => t.task_id === ti.task_id)} onClose={() => selection.select(runId, null)} onChanged={data.reload} />
            ) : run ? (
              <div className="card">
                <h2>Run</h2>
                <dl className="props">
                  <dt>Run id</dt>
                  <dd className="mono">{run.dag_run_id}</dd>
                  <dt>State</dt>
                  <dd>
                    <StateBadge state={run.state} />
                  </dd>
                  <dt>Run type</dt>
                  <dd>{run.run_type}</dd>
                  <dt>Logical date</dt>
                  <dd>
                    <Time iso={run.logical_date} />
                  </dd>
                  <dt>Started</dt>
                  <dd>
                    <Time iso={run.start_date} />
                  </dd>
                  <dt>Ended</dt>
                  <dd>
                    <Time iso={run.end_date} />
                  </dd>
                  <dt>Duration</dt>
                  <dd>{formatDuration(run.duration)}</dd>
                  <dt>Conf</dt>
                  <dd>
                    <pre className="code small">{JSON.stringify(run.conf ?? {}, null, 2)}</pre>
                  </dd>
                </dl>
                <p className="muted">Select a task to see its log, XCom and actions.</p>
              </div>
            ) : (
              <div className="card muted">No runs yet. Trigger the DAG to start one.</div>
            )}
          </aside>
        )}
      </div>
      {triggering && (
        <TriggerDialog
          dagId={dagId}
          onClose={() => setTriggering(false)}
          onTriggered={(newRun) => {
            setTriggering(false);
            data.reload();
            navigate({ pathname: `/dags/${encodeURIComponent(dagId)}/${tab}`, search: `?run=${encodeURIComponent(newRun)}` });
          }}
        />
      )}
    </section>
  );
}
