/**
 * The gateway's live stream (GET /api/couture/live) as data: server-sent events parsed from text
 * chunks, the changes they announce, and whether a change concerns what a view shows.
 * Pure: the connection itself lives in live.ts.
 */

export interface ServerEvent {
  /** "message" when the server named none. */
  event: string;
  data: string;
}

/**
 * Server-sent events from text as it arrives, split anywhere (inside a line, between \r and \n).
 * Comment lines (heartbeats) produce nothing; fields other than event and data are ignored.
 */
export class ServerEventParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private pendingCr = false;

  push(chunk: string): ServerEvent[] {
    let text = chunk;
    // A \r that ended the previous chunk already ended its line; a \n right after it belongs to it.
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = text.endsWith("\r");
    this.buffer += text;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    const events: ServerEvent[] = [];
    for (const line of lines) {
      if (line === "") {
        if (this.data.length > 0) events.push({ event: this.event || "message", data: this.data.join("\n") });
        this.event = "";
        this.data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") this.event = value;
      else if (field === "data") this.data.push(value);
    }
    return events;
  }
}

/** What changed in the read models: a kind of data, on one DAG and run where the server names them. */
export interface Change {
  kind: string;
  dag_id?: string;
  run_id?: string;
}

/** The ``changes`` of a ``change`` event's data; an answer of another shape is an error. */
export function parseChanges(data: string): Change[] {
  const parsed: unknown = JSON.parse(data);
  const list = parsed && typeof parsed === "object" ? (parsed as { changes?: unknown }).changes : undefined;
  if (!Array.isArray(list)) throw new Error("live change event without a changes list");
  return list.map((item: unknown) => {
    const c = item as Record<string, unknown>;
    if (!c || typeof c.kind !== "string") throw new Error("live change without a kind");
    const change: Change = { kind: c.kind };
    if (typeof c.dag_id === "string") change.dag_id = c.dag_id;
    if (typeof c.run_id === "string") change.run_id = c.run_id;
    return change;
  });
}

/** The kinds the gateway announces (couture_gateway.readmodels.changes). */
export type Kind =
  | "dag"
  | "import_error"
  | "dag_run"
  | "task_instance"
  | "xcom"
  | "sla_miss"
  | "variable"
  | "connection"
  | "pool"
  | "audit";

/** What a view shows: changes of these kinds, on this DAG and run when given. */
export interface LiveFilter {
  kinds: readonly Kind[];
  dagId?: string;
  runId?: string;
}

/** A change without a DAG (or run) may concern any: it refreshes every view of its kind. */
export function affects(filter: LiveFilter, changes: readonly Change[]): boolean {
  return changes.some(
    (c) =>
      (filter.kinds as readonly string[]).includes(c.kind) &&
      (!filter.dagId || !c.dag_id || c.dag_id === filter.dagId) &&
      (!filter.runId || !c.run_id || c.run_id === filter.runId),
  );
}
