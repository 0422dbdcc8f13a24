import { useState } from "react";
import { getTries } from "../../api/dags";
import type { TaskInstance } from "../../api/types";
import { ErrorText, Loading } from "../../components/common";
import { renderedEntries } from "../../lib/rendered";
import { isFinished } from "../../lib/states";
import { usePoll } from "../../lib/usePoll";
import "./dagViews.css";

/** What each try's templates rendered to (secrets masked by the worker), the current try first shown. */
export function RenderedView({ ti }: { ti: TaskInstance }) {
  const [chosen, setChosen] = useState<number | null>(null);
  const tries = usePoll(
    () => getTries(ti.dag_id, ti.dag_run_id, ti.task_id),
    [ti.dag_id, ti.dag_run_id, ti.task_id, ti.try_number, ti.state],
    // A try records what it rendered as it starts: look again until it has.
    (latest) => (latest.some((t) => t.try_number === ti.try_number && t.rendered_fields) || isFinished(ti.state) ? 0 : 1500),
  );
  if (tries.error) return <ErrorText error={tries.error} />;
  if (!tries.data) return <Loading what="rendered template" />;
  const rendered = tries.data.filter((t) => t.rendered_fields);
  if (rendered.length === 0) return <div className="muted">Nothing rendered yet: a try renders its templates when it starts.</div>;
  const current = rendered.find((t) => t.try_number === (chosen ?? ti.try_number)) ?? rendered[rendered.length - 1];
  const entries = renderedEntries(current.rendered_fields);
  return (
    <div data-testid="rendered">
      {rendered.length > 1 && (
        <label className="inline">
          Try
          <select aria-label="Rendered try" value={current.try_number} onChange={(e) => setChosen(Number(e.target.value))}>
            {rendered.map((t) => (
              <option key={t.try_number} value={t.try_number}>
                {t.try_number} ({t.state ?? "no status"})
              </option>
            ))}
          </select>
        </label>
      )}
      {entries.length === 0 && <div className="muted">This operator's template fields rendered empty.</div>}
      {entries.map(([name, text]) => (
        <div key={name} className="rendered-field" data-field={name}>
          <h3>{name}</h3>
          <pre className="code small">{text}</pre>
        </div>
      ))}
    </div>
  );
}
