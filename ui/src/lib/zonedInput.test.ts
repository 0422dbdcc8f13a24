import { describe, expect, it } from "vitest";
import { zonedToIso } from "./zonedInput";

describe("times typed in the chosen timezone", () => {
  it("reads a wall time in the user's zone as a UTC instant", () => {
    expect(zonedToIso("2026-01-15T16:00", "Asia/Kolkata")).toBe("2026-01-15T10:30:00.000Z");
    expect(zonedToIso("2026-07-15T19:30", "America/New_York")).toBe("2026-07-15T23:30:00.000Z");
    expect(zonedToIso("2026-01-15T19:30:10", "America/New_York")).toBe("2026-01-16T00:30:10.000Z");
    expect(zonedToIso("2026-01-15T10:30", "UTC")).toBe("2026-01-15T10:30:00.000Z");
  });

  it("refuses what is not a datetime-local value", () => {
    expect(zonedToIso("", "UTC")).toBeNull();
    expect(zonedToIso("yesterday", "UTC")).toBeNull();
  });
});
