/** Live data: fetch now, then again every ``intervalMs`` while the tab is visible. */
import { useCallback, useEffect, useRef, useState } from "react";

export const LIVE_INTERVAL_MS = 1500;

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  reload: () => void;
}

export function usePoll<T>(load: (() => Promise<T>) | null, deps: readonly unknown[], intervalMs = LIVE_INTERVAL_MS): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

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
      if (!document.hidden) {
        try {
          const value = await current();
          if (!cancelled) {
            setData(value);
            setError(null);
          }
        } catch (e) {
          if (!cancelled) setError(e instanceof Error ? e.message : String(e));
        }
      }
      if (!cancelled && intervalMs > 0) timer = window.setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [...deps, tick, intervalMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
