import { describe, expect, it } from "vitest";
import { NO_STATUS_COLOUR, TASK_STATES, isFinished, stateColour, stateTextColour } from "./states";

describe("state colours", () => {
  it("uses Airflow's palette for the states users read most", () => {
    expect(stateColour("success")).toBe("#008000");
    expect(stateColour("failed")).toBe("#ff0000");
    expect(stateColour("running")).toBe("#01ff70");
    expect(stateColour("upstream_failed")).toBe("#ffa500");
    expect(stateColour("skipped")).toBe("#ff69b4");
    expect(stateColour("up_for_retry")).toBe("#ffd700");
    expect(stateColour("queued")).toBe("#808080");
  });

  it("gives every state its own colour", () => {
    const colours = TASK_STATES.map(stateColour);
    expect(new Set(colours).size).toBe(TASK_STATES.length);
    expect(colours).not.toContain(NO_STATUS_COLOUR);
  });

  it("shows a task without a state, or with a state it does not know, as no status", () => {
    expect(stateColour(null)).toBe(NO_STATUS_COLOUR);
    expect(stateColour(undefined)).toBe(NO_STATUS_COLOUR);
    expect(stateColour("exploded")).toBe(NO_STATUS_COLOUR);
  });

  it("writes white on dark colours and black on light ones", () => {
    expect(stateTextColour("success")).toBe("#fff");
    expect(stateTextColour("failed")).toBe("#fff");
    expect(stateTextColour("running")).toBe("#000");
    expect(stateTextColour("up_for_retry")).toBe("#000");
    expect(stateTextColour(null)).toBe("#000");
  });

  it("knows which states end a task instance", () => {
    expect(["success", "failed", "skipped", "upstream_failed"].every(isFinished)).toBe(true);
    expect(["running", "queued", "up_for_retry", null].some(isFinished)).toBe(false);
  });
});
