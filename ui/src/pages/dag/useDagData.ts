/** Everything the DAG views show, polled together so every view stays live. */
import { api, url } from "../../api/client";
import { paths } from "../../api/dags";
import type { Dag, DagRun, DagRunCollection, TaskCollection, TaskInstance, TaskInstanceCollection } from "../../api/types";
import { isFinished } from "../../lib/states";
import { LIVE_INTERVAL_MS, usePoll } from "../../lib/usePoll";

const PAGE = 100;
/** With nothing running, a new run (scheduled, or triggered elsewhere) still shows within this. */
const IDLE_INTERVAL_MS = 5000;

function anythingActive(runs: DagRun[], tis: TaskInstance[]): boolean {
  return runs.some((r) => r.state === "queued" || r.state === "running") || tis.some((t) => t.state !== null && !isFinished(t.state));
}

async function taskInstancesSince(dagId: string, oldest: DagRun): Promise<TaskInstance[]> {
  const all: TaskInstance[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.get<TaskInstanceCollection>(
      paths.taskInstances(dagId, "~", { run_after_gte: oldest.run_after, limit: PAGE, offset, order_by: "run_after" }),
    );
    all.push(...page.task_instances);
    if (page.task_instances.length < PAGE || all.length >= page.total_entries) return all;
  }
}

export interface DagData {
  dag: Dag | undefined;
  tasks: TaskCollection | undefined;
  /** Newest first. */
  runs: DagRun[] | undefined;
  tis: TaskInstance[] | undefined;
  error: string | null;
  reload: () => void;
}

/**
 * Refetched as the live stream announces changes of this DAG; while it reconnects, polled fast while
 * a run or task is in flight and slowly otherwise, to spare a big DAG's grid.
 */
export function useDagData(dagId: string, runCount: number): DagData {
  const dag = usePoll(() => api.get<Dag>(paths.dag(dagId)), [dagId], 5000, { kinds: ["dag"], dagId });
  const tasks = usePoll(() => api.get<{ tasks: TaskCollection["tasks"]; total_entries: number }>(url(["/api/v2/dags", dagId, "tasks"])), [dagId], 10000, {
    kinds: ["dag"],
    dagId,
  });
  const runs = usePoll(
    async () => {
      const answer = await api.get<DagRunCollection>(paths.dagRuns(dagId, { limit: runCount, order_by: "-run_after" }));
      const oldest = answer.dag_runs[answer.dag_runs.length - 1];
      const tis = oldest ? await taskInstancesSince(dagId, oldest) : [];
      return { runs: answer.dag_runs, tis };
    },
    [dagId, runCount],
    (latest) => (anythingActive(latest.runs, latest.tis) ? LIVE_INTERVAL_MS : IDLE_INTERVAL_MS),
    { kinds: ["dag_run", "task_instance"], dagId },
  );
  return {
    dag: dag.data,
    tasks: tasks.data,
    runs: runs.data?.runs,
    tis: runs.data?.tis,
    error: dag.error ?? tasks.error ?? runs.error,
    reload: () => {
      dag.reload();
      runs.reload();
    },
  };
}
