/**
 * One live stream per signed-in tab (GET /api/couture/live), shared by every view through a context:
 * views subscribe with what they show and refetch as soon as a change concerns them.
 *
 * fetch() reads the stream (not EventSource) so it is sent like every other API call, with the
 * session cookie, and a refusal because the access token expired renews the session first. The
 * connection is considered down when it fails, ends, or stays silent past two heartbeats; it is then
 * retried with backoff and, once back, every view refetches once (changes may have been missed).
 */
import { createContext, createElement, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { hasSession, renewSession } from "../api/client";
import { affects, parseChanges, ServerEventParser, type Change, type LiveFilter } from "./liveEvents";

export const LIVE_PATH = "/api/couture/live";
/** Waits between reconnection attempts: doubled after each failure, up to the last. */
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];
/** Silence, in heartbeats, after which the stream is taken for dead. */
const SILENT_HEARTBEATS = 2.5;

/** Every view must refetch: after a resync, or when the stream (re)connects. */
export const EVERYTHING = "everything";
type Listener = (changes: readonly Change[] | typeof EVERYTHING) => void;

export interface Live {
  /** The stream is open: views need not poll. */
  connected: boolean;
  subscribe: (listener: Listener) => () => void;
}

const OFFLINE: Live = { connected: false, subscribe: () => () => undefined };
const LiveContext = createContext<Live>(OFFLINE);

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Calls ``onChange`` whenever the stream announces a change ``filter`` covers (or asks for everything). */
export function useLiveChanges(filter: LiveFilter | undefined, onChange: () => void): boolean {
  const live = useLive();
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const key = filter ? JSON.stringify(filter) : "";
  useEffect(() => {
    if (!filter) return undefined;
    return live.subscribe((changes) => {
      if (changes === EVERYTHING || affects(filter, changes)) onChangeRef.current();
    });
    // The filter is compared by value (``key``): callers pass a fresh object literal every render.
  }, [live, key]);
  return live.connected && filter !== undefined;
}

/** One stream and its reconnections, from start() until stop(). */
class Connection {
  private controller: AbortController | null = null;
  private stopped = false;
  private failures = 0;
  private timer: number | undefined;

  constructor(
    private readonly setConnected: (connected: boolean) => void,
    private readonly emit: Listener,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.controller?.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const opened = await this.stream().catch(() => false);
      this.setConnected(false);
      if (this.stopped) return;
      this.failures = opened ? 0 : this.failures + 1;
      const wait = opened ? 0 : RETRY_MS[Math.min(this.failures - 1, RETRY_MS.length - 1)];
      await new Promise((resolve) => {
        this.timer = window.setTimeout(resolve, wait);
      });
    }
  }

  /** Reads one stream until it ends; true when it had opened (so reconnecting at once is fine). */
  private async stream(): Promise<boolean> {
    const controller = new AbortController();
    this.controller = controller;
    const open = () =>
      fetch(LIVE_PATH, { headers: { Accept: "text/event-stream" }, credentials: "same-origin", cache: "no-store", signal: controller.signal });
    let answer = await open();
    // The stream ends when the access token expires; the refresh cookie gets a new one.
    if (answer.status === 401 && hasSession() && (await renewSession())) answer = await open();
    if (!answer.ok || !answer.body) {
      await answer.body?.cancel();
      return false;
    }
    const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new ServerEventParser();
    let silence: number | undefined;
    let heartbeatMs = 15_000;
    const watch = () => {
      window.clearTimeout(silence);
      silence = window.setTimeout(() => controller.abort(), heartbeatMs * SILENT_HEARTBEATS);
    };
    let opened = false;
    try {
      watch();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return opened;
        watch();
        for (const { event, data } of parser.push(value)) {
          if (event === "ready") {
            opened = true;
            const { heartbeat_s } = JSON.parse(data) as { heartbeat_s?: number };
            if (typeof heartbeat_s === "number" && heartbeat_s > 0) heartbeatMs = heartbeat_s * 1000;
            watch();
            this.setConnected(true);
            this.emit(EVERYTHING);
          } else if (event === "change") {
            this.emit(parseChanges(data));
          } else if (event === "resync") {
            this.emit(EVERYTHING);
            return true;
          }
        }
      }
    } catch {
      return opened;
    } finally {
      window.clearTimeout(silence);
      controller.abort();
    }
  }
}

/** Opens the stream while mounted (inside the signed-in layout) and shares it with every view. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [connected, setConnected] = useState(false);
  const [listeners] = useState(() => new Set<Listener>());
  useEffect(() => {
    const connection = new Connection(setConnected, (changes) => {
      for (const listener of [...listeners]) listener(changes);
    });
    connection.start();
    return () => connection.stop();
  }, [listeners]);
  const value = useMemo<Live>(
    () => ({
      connected,
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    }),
    [connected, listeners],
  );
  return createElement(LiveContext.Provider, { value }, children);
}
