/** The Gantt chart of one run: a row per task, a bar per try, on the run's own time axis. */

import { spanSeconds } from "./time";

/** What a bar needs of a try (a task instance is its own latest try). */
export interface TrySpan {
  task_id: string;
  try_number: number;
  state: string | null;
  start_date: string | null;
  end_date: string | null;
}

export interface GanttBar {
  tryNumber: number;
  state: string | null;
  /** Seconds from the chart's origin to the try's start. */
  offset: number;
  /** Seconds the try ran (so far, while it runs). */
  length: number;
}

export interface GanttRow {
  taskId: string;
  bars: GanttBar[];
}

export interface GanttChart {
  rows: GanttRow[];
  /** Seconds from the origin to the last end: the width of the axis. */
  total: number;
}

const time = (iso: string) => new Date(iso).getTime();

/**
 * ``tries`` holds the recorded tries of the tasks that ran more than once; a task without an
 * entry there ran once, and its task instance is that try. A task instance's own fields win for
 * its current try, since they are the freshest.
 */
export function ganttChart(tis: TrySpan[], tries: ReadonlyMap<string, TrySpan[]>, runStart: string | null, now: Date): GanttChart {
  const spans = tis.map((ti) => {
    const older = (tries.get(ti.task_id) ?? []).filter((t) => t.try_number !== ti.try_number);
    const all = [...older, ti].filter((t) => t.start_date).sort((a, b) => a.try_number - b.try_number);
    return { taskId: ti.task_id, tries: all };
  });
  const started = spans.filter((s) => s.tries.length > 0);
  const starts = started.flatMap((s) => s.tries.map((t) => time(t.start_date as string)));
  const origin = Math.min(...starts, runStart ? time(runStart) : Infinity);
  const rows = started
    .map((s) => ({
      taskId: s.taskId,
      bars: s.tries.map((t) => ({
        tryNumber: t.try_number,
        state: t.state,
        offset: (time(t.start_date as string) - origin) / 1000,
        length: spanSeconds(t.start_date, t.end_date, now) ?? 0,
      })),
    }))
    .sort((a, b) => a.bars[0].offset - b.bars[0].offset || a.taskId.localeCompare(b.taskId));
  const total = Math.max(0.001, ...rows.flatMap((r) => r.bars.map((b) => b.offset + b.length)));
  return { rows, total };
}
