/** Task-instance and DAG-run states, coloured with Airflow's palette so users read them at a glance. */

export const TASK_STATES = [
  "success",
  "running",
  "failed",
  "upstream_failed",
  "skipped",
  "up_for_retry",
  "up_for_reschedule",
  "queued",
  "scheduled",
  "deferred",
  "removed",
  "restarting",
] as const;

export type TaskState = (typeof TASK_STATES)[number];

/** The run states the DAGs list counts, in the order Airflow shows them. */
export const RUN_STATES = ["queued", "running", "success", "failed"] as const;
export type RunState = (typeof RUN_STATES)[number];

const COLOURS: Record<TaskState, string> = {
  success: "#008000",
  running: "#01ff70",
  failed: "#ff0000",
  upstream_failed: "#ffa500",
  skipped: "#ff69b4",
  up_for_retry: "#ffd700",
  up_for_reschedule: "#40e0d0",
  queued: "#808080",
  scheduled: "#d2b48c",
  deferred: "#9370db",
  removed: "#d3d3d3",
  restarting: "#ee82ee",
};

/** Colour of a task that has no state yet (Airflow's "no_status"). */
export const NO_STATUS_COLOUR = "#e2e2e2";

function isTaskState(state: string): state is TaskState {
  return (TASK_STATES as readonly string[]).includes(state);
}

export function stateColour(state: string | null | undefined): string {
  return state && isTaskState(state) ? COLOURS[state] : NO_STATUS_COLOUR;
}

/** Black or white text, whichever reads better on ``stateColour(state)``. */
export function stateTextColour(state: string | null | undefined): string {
  const hex = stateColour(state).slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  return luminance > 0.55 ? "#000" : "#fff";
}

/** States after which a task instance does not change again without a clear. */
const FINISHED = new Set(["success", "failed", "upstream_failed", "skipped", "removed"]);

export function isFinished(state: string | null | undefined): boolean {
  return state != null && FINISHED.has(state);
}
