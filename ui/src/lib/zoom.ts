/**
 * Zooming from a master DAG's DagOperator task into the DAG it triggers, and back.
 *
 * The way back is kept in the URL (one ``zoom_from`` entry per level), so a zoomed view can be
 * reloaded, shared, and zoomed further into a nested master DAG.
 */

export const ZOOM_PARAM = "zoom_from";

/** One level of the breadcrumb: the master DAG's run and the DagOperator task zoomed into. */
export interface Crumb {
  dagId: string;
  runId: string | null;
  taskId: string;
}

function parseCrumb(text: string): Crumb | null {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.length === 3 && typeof value[0] === "string" && typeof value[2] === "string") {
      return { dagId: value[0], runId: typeof value[1] === "string" ? value[1] : null, taskId: value[2] };
    }
  } catch {
    // A hand-edited URL: its broken entries are dropped, the rest of the trail still works.
  }
  return null;
}

/** The breadcrumb of the view, outermost master first. */
export function readTrail(params: URLSearchParams): Crumb[] {
  return params.getAll(ZOOM_PARAM).flatMap((text) => parseCrumb(text) ?? []);
}

function withTrail(trail: Crumb[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const crumb of trail) params.append(ZOOM_PARAM, JSON.stringify([crumb.dagId, crumb.runId, crumb.taskId]));
  return params;
}

/** The query of the child DAG's view: its run (when one was triggered) and the trail one level deeper. */
export function zoomInSearch(trail: Crumb[], from: Crumb, childRunId: string | null): URLSearchParams {
  const params = withTrail([...trail, from]);
  if (childRunId) params.set("run", childRunId);
  return params;
}

/** Where the breadcrumb's entry ``index`` leads: that master DAG, its run, the DagOperator task selected. */
export function zoomOutTarget(trail: Crumb[], index: number): { dagId: string; search: URLSearchParams } {
  const crumb = trail[index];
  const params = withTrail(trail.slice(0, index));
  if (crumb.runId) params.set("run", crumb.runId);
  params.set("task", crumb.taskId);
  return { dagId: crumb.dagId, search: params };
}

/** How many task instances are in each state, most common first ("none" for no state yet). */
export function stateCounts(states: (string | null)[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const state of states) counts.set(state ?? "none", (counts.get(state ?? "none") ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
