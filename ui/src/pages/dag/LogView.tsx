import { useEffect, useRef, useState } from "react";
import { api, url } from "../../api/client";
import type { LogChunk, TaskInstance } from "../../api/types";
import { ErrorText } from "../../components/common";
import { isFinished } from "../../lib/states";
import { LIVE_INTERVAL_MS } from "../../lib/usePoll";

function lineText(line: LogChunk["content"][number]): string {
  return typeof line === "string" ? line : line.event;
}

/** One try's log; the latest try of an unfinished task is tailed until it finishes. */
function TryLog({ ti, tryNumber, live }: { ti: TaskInstance; tryNumber: number; live: boolean }) {
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const liveRef = useRef(live);
  liveRef.current = live;
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let cancelled = false;
    let timer: number | undefined;
    let token: string | null = null;
    setLines([]);
    setError(null);
    const base = ["/api/v2/dags", ti.dag_id, "dagRuns", ti.dag_run_id, "taskInstances", ti.task_id, "logs", tryNumber] as const;
    const fetchMore = async () => {
      try {
        const chunk = await api.get<LogChunk>(url(base, { map_index: ti.map_index, token: token ?? undefined }));
        if (cancelled) return;
        token = chunk.continuation_token ?? token;
        const more = chunk.content.map(lineText);
        if (more.length) setLines((old) => [...old, ...more]);
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      }
      // One more read after the task finishes picks up its last lines.
      const again = liveRef.current;
      if (!cancelled && again) timer = window.setTimeout(fetchMore, LIVE_INTERVAL_MS);
    };
    void fetchMore();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [ti.dag_id, ti.dag_run_id, ti.task_id, ti.map_index, tryNumber, live]);

  useEffect(() => {
    if (follow) bottom.current?.scrollIntoView({ block: "nearest" });
  }, [lines, follow]);

  return (
    <div className="log">
      <div className="toolbar">
        {live && <span className="live-dot">live</span>}
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
      </div>
      <ErrorText error={error} />
      <pre className="code log-text" data-testid="log">
        {lines.length === 0 ? <span className="muted">No log lines{live ? " yet" : ""}.</span> : lines.join("\n")}
        <div ref={bottom} />
      </pre>
    </div>
  );
}

export function LogView({ ti }: { ti: TaskInstance }) {
  const tries = Math.max(ti.try_number, 1);
  const [chosen, setChosen] = useState<number | null>(null);
  const tryNumber = chosen && chosen <= tries ? chosen : tries;
  const live = tryNumber === ti.try_number && !isFinished(ti.state);
  return (
    <div>
      <div className="tries" role="tablist" aria-label="Tries">
        {Array.from({ length: tries }, (_, i) => i + 1).map((n) => (
          <button key={n} type="button" role="tab" aria-selected={n === tryNumber} className={n === tryNumber ? "active" : ""} onClick={() => setChosen(n)}>
            Try {n}
          </button>
        ))}
      </div>
      {ti.try_number === 0 && ti.state == null ? <div className="muted">The task has not run yet.</div> : <TryLog ti={ti} tryNumber={tryNumber} live={live} />}
    </div>
  );
}
