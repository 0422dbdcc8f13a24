/** The gateway calls the pages share. */
import { api, url } from "./client";
import type { DagRun, DagRunCollection, TaskInstance, TaskInstanceCollection, TaskInstanceTry, TaskInstanceTryCollection } from "./types";

const V2 = "/api/v2";

export const paths = {
  dag: (dagId: string) => url([V2, "dags", dagId]),
  dagRuns: (dagId: string, query?: Record<string, string | number | undefined>) => url([V2, "dags", dagId, "dagRuns"], query),
  taskInstances: (dagId: string, runId: string, query?: Record<string, string | number | undefined>) =>
    url([V2, "dags", dagId, "dagRuns", runId, "taskInstances"], query),
  taskInstance: (dagId: string, runId: string, taskId: string) => url([V2, "dags", dagId, "dagRuns", runId, "taskInstances", taskId]),
  tries: (dagId: string, runId: string, taskId: string) => url([V2, "dags", dagId, "dagRuns", runId, "taskInstances", taskId, "tries"]),
  triggeredDagRuns: (dagId: string, runId: string, taskId: string) =>
    url(["/api/couture/dags", dagId, "dagRuns", runId, "taskInstances", taskId, "triggeredDagRuns"]),
};

/** Every try of a task instance, oldest first. */
export async function getTries(dagId: string, runId: string, taskId: string): Promise<TaskInstanceTry[]> {
  return (await api.get<TaskInstanceTryCollection>(paths.tries(dagId, runId, taskId))).task_instances;
}

/** The runs a DagOperator task instance triggered, newest first. */
export async function getTriggeredDagRuns(dagId: string, runId: string, taskId: string): Promise<DagRun[]> {
  return (await api.get<DagRunCollection>(paths.triggeredDagRuns(dagId, runId, taskId))).dag_runs;
}

export function setPaused(dagId: string, isPaused: boolean): Promise<unknown> {
  return api.patch(paths.dag(dagId), { is_paused: isPaused });
}

export function triggerRun(dagId: string, conf: Record<string, unknown>): Promise<DagRun> {
  return api.post<DagRun>(paths.dagRuns(dagId), { conf });
}

export interface ClearOptions {
  includeUpstream: boolean;
  includeDownstream: boolean;
  onlyFailed: boolean;
}

export function clearTask(ti: TaskInstance, options: ClearOptions): Promise<TaskInstanceCollection> {
  return api.post<TaskInstanceCollection>(url([V2, "dags", ti.dag_id, "clearTaskInstances"]), {
    dry_run: false,
    dag_run_id: ti.dag_run_id,
    task_ids: [ti.task_id],
    include_upstream: options.includeUpstream,
    include_downstream: options.includeDownstream,
    only_failed: options.onlyFailed,
  });
}

export function markTask(ti: TaskInstance, state: "success" | "failed"): Promise<unknown> {
  return api.patch(paths.taskInstance(ti.dag_id, ti.dag_run_id, ti.task_id), { new_state: state });
}
