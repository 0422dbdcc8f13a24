import { describe, expect, it } from "vitest";
import { formatDateTime, formatDuration, spanSeconds } from "./time";

describe("times in the chosen timezone", () => {
  it("shows an instant in UTC or in the user's zone", () => {
    expect(formatDateTime("2026-01-15T10:30:05Z", "UTC")).toBe("2026-01-15 10:30:05");
    expect(formatDateTime("2026-01-15T10:30:05Z", "Asia/Kolkata")).toBe("2026-01-15 16:00:05");
    expect(formatDateTime("2026-07-15T23:30:00Z", "America/New_York")).toBe("2026-07-15 19:30:00");
  });

  it("shows nothing for a missing date", () => {
    expect(formatDateTime(null, "UTC")).toBe("");
  });

  it("writes durations briefly", () => {
    expect(formatDuration(0.35)).toBe("350ms");
    expect(formatDuration(4.24)).toBe("4.2s");
    expect(formatDuration(125)).toBe("2m 05s");
    expect(formatDuration(3723)).toBe("1h 02m 03s");
    expect(formatDuration(null)).toBe("");
  });

  it("measures an unfinished span up to now", () => {
    const now = new Date("2026-01-01T00:00:10Z");
    expect(spanSeconds("2026-01-01T00:00:00Z", null, now)).toBe(10);
    expect(spanSeconds("2026-01-01T00:00:00Z", "2026-01-01T00:00:04Z", now)).toBe(4);
    expect(spanSeconds(null, null, now)).toBeNull();
  });
});
