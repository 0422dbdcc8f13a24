import type { DagRun, Task, TaskInstance } from "../../api/types";
import { formatDateTime, formatDuration } from "../../lib/time";
import { useSession } from "../../session";

const PALETTE = ["#017cee", "#e43921", "#11b37c", "#f5a623", "#8e44ad", "#00a7c4", "#d35400", "#7f8c8d", "#c0392b", "#2ecc71"];
const W = 900;
const H = 300;
const PAD = 48;

/** Each task's duration over the runs shown (oldest on the left): a slowdown shows as a rising line. */
export function DurationView({ tasks, runs, tis }: { tasks: Task[]; runs: DagRun[]; tis: TaskInstance[] }) {
  const { timeZone } = useSession();
  const columns = [...runs].reverse();
  if (columns.length === 0) return <div className="muted">No runs yet.</div>;
  const index = new Map(columns.map((r, i) => [r.dag_run_id, i]));
  const series = tasks.map((task, n) => ({
    task: task.task_id,
    colour: PALETTE[n % PALETTE.length],
    points: tis
      .filter((t) => t.task_id === task.task_id && t.duration != null && index.has(t.dag_run_id))
      .map((t) => ({ i: index.get(t.dag_run_id) as number, d: t.duration as number }))
      .sort((a, b) => a.i - b.i),
  }));
  const max = Math.max(0.001, ...series.flatMap((s) => s.points.map((p) => p.d)));
  const x = (i: number) => PAD + (columns.length === 1 ? (W - 2 * PAD) / 2 : (i * (W - 2 * PAD)) / (columns.length - 1));
  const y = (d: number) => H - PAD - (d / max) * (H - 2 * PAD);
  return (
    <div className="duration" data-testid="duration">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Task duration chart">
        <line x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} className="axis" />
        <line x1={PAD} y1={PAD} x2={PAD} y2={H - PAD} className="axis" />
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={PAD - 6} y={y(max * f) + 4} textAnchor="end" className="tick">
            {formatDuration(max * f)}
          </text>
        ))}
        {columns.map((run, i) =>
          // Label about eight runs so the dates never overlap.
          i % Math.ceil(columns.length / 8) === 0 ? (
            <text key={run.dag_run_id} x={x(i)} y={H - PAD + 16} textAnchor="middle" className="tick">
              {formatDateTime(run.logical_date ?? run.run_after, timeZone).slice(5, 16)}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.task}>
            <polyline fill="none" stroke={s.colour} strokeWidth={2} points={s.points.map((p) => `${x(p.i)},${y(p.d)}`).join(" ")} />
            {s.points.map((p) => (
              <circle key={p.i} cx={x(p.i)} cy={y(p.d)} r={3} fill={s.colour}>
                <title>{`${s.task} in ${columns[p.i].dag_run_id}: ${formatDuration(p.d)}`}</title>
              </circle>
            ))}
          </g>
        ))}
      </svg>
      <div className="legend">
        {series.map((s) => (
          <span key={s.task}>
            <i style={{ background: s.colour }} /> {s.task}
          </span>
        ))}
      </div>
    </div>
  );
}
