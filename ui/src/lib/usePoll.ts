/** Live data: fetch now, then again after an interval while the tab is visible. */
import { useCallback, useEffect, useRef, useState } from "react";

export const LIVE_INTERVAL_MS = 1500;

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  reload: () => void;
}

/**
 * ``interval`` is milliseconds between fetches (0: fetch once), or a function choosing the next
 * interval from what was just fetched, so a view can poll fast only while something is running.
 */
export function usePoll<T>(
  load: (() => Promise<T>) | null,
  deps: readonly unknown[],
  interval: number | ((latest: T) => number) = LIVE_INTERVAL_MS,
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(interval);
  intervalRef.current = interval;

  useEffect(() => {
    setData(undefined);
    setError(null);
  }, deps);

  useEffect(() => {
    let cancelled = false;
    let timer: number | undefined;
    const run = async () => {
      const current = loadRef.current;
      if (!current) return;
      let delay = typeof intervalRef.current === "number" ? intervalRef.current : LIVE_INTERVAL_MS;
      if (!document.hidden) {
        try {
          const value = await current();
          if (cancelled) return;
          setData(value);
          setError(null);
          if (typeof intervalRef.current === "function") delay = intervalRef.current(value);
        } catch (e) {
          if (!cancelled) setError(e instanceof Error ? e.message : String(e));
        }
      }
      if (!cancelled && delay > 0) timer = window.setTimeout(run, delay);
    };
    void run();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
