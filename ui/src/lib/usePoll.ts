/**
 * Live data: fetch now, then again whenever the live stream announces a change the view shows
 * (``live``); without the stream (views that name no changes, or while it reconnects), after an
 * interval while the tab is visible.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { useLiveChanges } from "./live";
import type { LiveFilter } from "./liveEvents";

export const LIVE_INTERVAL_MS = 1500;
/** While the live stream is up, views that follow it still fetch this often, as a safety net. */
export const STREAMED_INTERVAL_MS = 30_000;

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  reload: () => void;
}

/**
 * ``interval`` is milliseconds between fetches (0: fetch once), or a function choosing the next
 * interval from what was just fetched, so a view can poll fast only while something is running.
 * With ``live``, the view refetches on the changes it names and, while the stream is up, polls only
 * every ``STREAMED_INTERVAL_MS`` (never when ``interval`` is 0); when the stream drops it fetches at
 * once and goes back to ``interval``. Changes arriving during a fetch are folded into one more
 * fetch after it, so a busy stream never starves a slow query.
 */
export function usePoll<T>(
  load: (() => Promise<T>) | null,
  deps: readonly unknown[],
  interval: number | ((latest: T) => number) = LIVE_INTERVAL_MS,
  live?: LiveFilter,
): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const intervalRef = useRef(interval);
  intervalRef.current = interval;
  const fetchNowRef = useRef<() => void>(() => undefined);
  const streamed = useLiveChanges(live, () => fetchNowRef.current());
  const streamedRef = useRef(streamed);
  streamedRef.current = streamed;
  const wasStreamed = useRef(streamed);
  useEffect(() => {
    // Changes may go unheard until the stream is back: fetch now and poll meanwhile.
    if (wasStreamed.current && !streamed) fetchNowRef.current();
    wasStreamed.current = streamed;
  }, [streamed]);

  useEffect(() => {
    setData(undefined);
    setError(null);
  }, deps);

  useEffect(() => {
    let cancelled = false;
    let timer: number | undefined;
    let loading = false;
    /** A change came while fetching, or while the tab was hidden: fetch again when possible. */
    let stale = false;
    const nextDelay = (value: T | undefined): number => {
      const chosen = intervalRef.current;
      const own = typeof chosen === "number" ? chosen : value === undefined ? LIVE_INTERVAL_MS : chosen(value);
      return streamedRef.current && own !== 0 ? STREAMED_INTERVAL_MS : own;
    };
    const run = async () => {
      window.clearTimeout(timer);
      const current = loadRef.current;
      if (!current || cancelled) return;
      if (loading || document.hidden) {
        // Fetched once the current fetch ends, or once the tab shows again.
        stale = true;
        return;
      }
      stale = false;
      loading = true;
      let value: T | undefined;
      try {
        value = await current();
        if (cancelled) return;
        setData(value);
        setError(null);
      } catch (e) {
        if (!cancelled) setError(e instanceof Error ? e.message : String(e));
      } finally {
        loading = false;
      }
      if (cancelled) return;
      if (stale) {
        void run();
        return;
      }
      const delay = nextDelay(value);
      if (delay > 0) timer = window.setTimeout(run, delay);
    };
    const onVisible = () => {
      if (!document.hidden && stale) void run();
    };
    fetchNowRef.current = () => void run();
    document.addEventListener("visibilitychange", onVisible);
    void run();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
      fetchNowRef.current = () => undefined;
    };
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
