/** Zoom from a master DAG's DagOperator task into the DAG it triggers, and the breadcrumb back. */
import { Fragment, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api } from "../../api/client";
import { getTriggeredDagRuns, paths } from "../../api/dags";
import type { DagRun, Task, TaskInstanceCollection } from "../../api/types";
import { ErrorText, StateBadge } from "../../components/common";
import { LIVE_INTERVAL_MS, usePoll } from "../../lib/usePoll";
import { readTrail, stateCounts, zoomInSearch, zoomOutTarget } from "../../lib/zoom";
import "./dagViews.css";

export interface Zoom {
  /** Opens the graph of the DAG ``task`` triggers, on the run it triggered from ``runId`` (if any). */
  into: (task: Task, runId: string | null) => Promise<void>;
  error: string | null;
}

export function useZoom(): Zoom {
  const { dagId = "" } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const into = async (task: Task, runId: string | null) => {
    const target = task.couture_run_dag_id;
    if (!target) return;
    setError(null);
    let childDag = target;
    let childRun: string | null = null;
    if (runId) {
      try {
        // Newest first: after a retry, the latest try's run.
        const [latest] = await getTriggeredDagRuns(dagId, runId, task.task_id);
        if (latest) [childDag, childRun] = [latest.dag_id, latest.dag_run_id];
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
        return;
      }
    }
    const search = zoomInSearch(readTrail(params), { dagId, runId, taskId: task.task_id }, childRun);
    navigate({ pathname: `/dags/${encodeURIComponent(childDag)}/graph`, search: `?${search}` });
  };
  return { into, error };
}

/** Where the view was zoomed in from: each master DAG (and task) back to the outermost. */
export function ZoomTrail({ dagId }: { dagId: string }) {
  const [params] = useSearchParams();
  const trail = readTrail(params);
  if (trail.length === 0) return null;
  return (
    <nav className="zoom-trail" aria-label="Zoom breadcrumb">
      {trail.map((crumb, index) => {
        const back = zoomOutTarget(trail, index);
        return (
          <Fragment key={`${index}-${crumb.dagId}`}>
            <Link to={{ pathname: `/dags/${encodeURIComponent(back.dagId)}/graph`, search: `?${back.search}` }} title={crumb.runId ?? undefined}>
              {crumb.dagId}
            </Link>
            <span className="sep">›</span>
            <span className="muted mono">{crumb.taskId}</span>
            <span className="sep">›</span>
          </Fragment>
        );
      })}
      <span className="current">{dagId}</span>
      {!params.get("run") && <span className="muted">(this master run triggered no run of it)</span>}
    </nav>
  );
}

interface Preview {
  run: DagRun | undefined;
  counts: [string, number][];
}

async function loadPreview(dagId: string, runId: string | null, task: Task): Promise<Preview> {
  if (!runId) return { run: undefined, counts: [] };
  const [run] = await getTriggeredDagRuns(dagId, runId, task.task_id);
  if (!run) return { run, counts: [] };
  const tis = await api.get<TaskInstanceCollection>(paths.taskInstances(run.dag_id, run.dag_run_id, { limit: 100 }));
  return { run, counts: stateCounts(tis.task_instances.map((t) => t.state)) };
}

/** Shown while the pointer is on a "zoom into DAG" control: the run it leads to, and its tasks' states. */
export function ZoomPreview({ runId, task }: { runId: string | null; task: Task }) {
  const { dagId = "" } = useParams();
  // Live while the child run is still going, like the graph it previews.
  const preview = usePoll(() => loadPreview(dagId, runId, task), [dagId, runId, task.task_id], (latest) =>
    latest.run && (latest.run.state === "queued" || latest.run.state === "running") ? LIVE_INTERVAL_MS : 0,
  );
  return (
    <div className="zoom-preview" role="tooltip" data-testid="zoom-preview">
      <h3>Zoom into DAG {task.couture_run_dag_id}</h3>
      <ErrorText error={preview.error} />
      {!preview.data && !preview.error && <div className="muted">Loading…</div>}
      {preview.data && !preview.data.run && <div className="muted">This run of {dagId} triggered no run of it.</div>}
      {preview.data?.run && (
        <>
          <div>
            <span className="mono">{preview.data.run.dag_run_id}</span> <StateBadge state={preview.data.run.state} />
          </div>
          <div className="counts">
            <span className="muted">Tasks:</span>
            {preview.data.counts.map(([state, count]) => (
              <span key={state}>
                <StateBadge state={state === "none" ? null : state} /> {count}
              </span>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
