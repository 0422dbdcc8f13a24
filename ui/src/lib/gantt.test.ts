import { describe, expect, it } from "vitest";
import { ganttChart, type TrySpan } from "./gantt";

const T0 = "2024-01-01T00:00:00Z";
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

function span(task_id: string, try_number: number, state: string | null, start: number | null, end: number | null): TrySpan {
  return { task_id, try_number, state, start_date: start == null ? null : at(start), end_date: end == null ? null : at(end) };
}

describe("the Gantt chart of a run", () => {
  it("draws every try of a retried task on its row, oldest first", () => {
    const tis = [span("extract", 1, "success", 0, 10), span("load", 2, "success", 40, 50)];
    const tries = new Map([["load", [span("load", 2, "running", 40, null), span("load", 1, "failed", 10, 20)]]]);

    const chart = ganttChart(tis, tries, T0, new Date(at(60)));

    expect(chart.rows.map((r) => r.taskId)).toEqual(["extract", "load"]);
    expect(chart.rows[1].bars).toEqual([
      { tryNumber: 1, state: "failed", offset: 10, length: 10 },
      // The task instance's own fields are fresher than the recorded try's.
      { tryNumber: 2, state: "success", offset: 40, length: 10 },
    ]);
    expect(chart.total).toBe(50);
  });

  it("measures a running try until now and leaves out tasks that never started", () => {
    const tis = [span("extract", 1, "running", 5, null), span("load", 0, null, null, null)];

    const chart = ganttChart(tis, new Map(), at(0), new Date(at(35)));

    expect(chart.rows).toEqual([{ taskId: "extract", bars: [{ tryNumber: 1, state: "running", offset: 5, length: 30 }] }]);
    expect(chart.total).toBe(35);
  });

  it("starts the axis at the earliest try when the run's start is unknown", () => {
    const chart = ganttChart([span("a", 1, "success", 100, 110)], new Map(), null, new Date(at(200)));

    expect(chart.rows[0].bars[0].offset).toBe(0);
    expect(chart.total).toBe(10);
  });
});
