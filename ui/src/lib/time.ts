/** Dates and durations shown in the timezone the user picked. */

export const UTC = "UTC";

export function formatDateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")}`;
}

/** "1h 02m 03s", "4.2s", "350ms": short enough for a table cell. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "";
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

/** Seconds between two instants; an unfinished span runs until ``now``. */
export function spanSeconds(start: string | null, end: string | null, now: Date): number | null {
  if (!start) return null;
  const finish = end ? new Date(end) : now;
  return Math.max(0, (finish.getTime() - new Date(start).getTime()) / 1000);
}
