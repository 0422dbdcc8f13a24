import { describe, expect, it } from "vitest";
import { affects, parseChanges, ServerEventParser } from "./liveEvents";

describe("server-sent events from the live stream", () => {
  it("parses events split anywhere across chunks and skips heartbeats", () => {
    const parser = new ServerEventParser();
    const wire = 'event: ready\ndata: {"heartbeat_s":15}\n\n: keep-alive\n\nevent: change\ndata: {"changes":[{"kind":"dag_run"}]}\n\n';
    const seen = [];
    for (let i = 0; i < wire.length; i += 7) seen.push(...parser.push(wire.slice(i, i + 7)));
    expect(seen).toEqual([
      { event: "ready", data: '{"heartbeat_s":15}' },
      { event: "change", data: '{"changes":[{"kind":"dag_run"}]}' },
    ]);
  });

  it("accepts CRLF and CR line ends, even with CR and LF in different chunks", () => {
    const parser = new ServerEventParser();
    expect(parser.push("event: resync\r")).toEqual([]);
    expect(parser.push("\ndata: a\r\r")).toEqual([{ event: "resync", data: "a" }]);
    expect(parser.push("\ndata: b\r\n\r\n")).toEqual([{ event: "message", data: "b" }]);
  });

  it("joins multi-line data and ignores unknown fields and events without data", () => {
    const parser = new ServerEventParser();
    expect(parser.push("id: 4\nretry: 10\nevent: x\n\ndata: one\ndata:two\n\n")).toEqual([{ event: "message", data: "one\ntwo" }]);
  });
});

describe("changes and the views they concern", () => {
  it("reads the changes of a change event and refuses other shapes", () => {
    expect(parseChanges('{"changes":[{"kind":"task_instance","dag_id":"etl","run_id":"r1"},{"kind":"pool"}]}')).toEqual([
      { kind: "task_instance", dag_id: "etl", run_id: "r1" },
      { kind: "pool" },
    ]);
    expect(() => parseChanges('{"nope":1}')).toThrow("without a changes list");
    expect(() => parseChanges('{"changes":[{"dag_id":"etl"}]}')).toThrow("without a kind");
  });

  it("matches a view by kind, DAG and run; a change naming no DAG concerns every DAG", () => {
    const grid = { kinds: ["dag_run", "task_instance"], dagId: "etl" } as const;
    expect(affects(grid, [{ kind: "task_instance", dag_id: "etl", run_id: "r1" }])).toBe(true);
    expect(affects(grid, [{ kind: "task_instance", dag_id: "payroll", run_id: "r1" }])).toBe(false);
    expect(affects(grid, [{ kind: "variable" }])).toBe(false);
    expect(affects({ kinds: ["dag"], dagId: "etl" }, [{ kind: "dag" }])).toBe(true);
    const xcoms = { kinds: ["xcom"], dagId: "etl", runId: "r1" } as const;
    expect(affects(xcoms, [{ kind: "xcom", dag_id: "etl", run_id: "r2" }])).toBe(false);
    expect(affects(xcoms, [{ kind: "xcom", dag_id: "etl", run_id: "r1" }])).toBe(true);
    expect(affects({ kinds: ["dag_run"] }, [{ kind: "dag_run", dag_id: "any" }])).toBe(true);
  });
});
