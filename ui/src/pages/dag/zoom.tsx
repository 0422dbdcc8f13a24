/** Zoom from a master DAG's DagOperator task into the DAG it triggers, and the breadcrumb back. */
import { Fragment, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { getTriggeredDagRuns } from "../../api/dags";
import type { Task } from "../../api/types";
import { readTrail, zoomInSearch, zoomOutTarget } from "../../lib/zoom";
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
