// The runs list's time range: `datetime-local` inputs (the browser's local time, no zone) into
// the RFC 3339 instants ListRuns takes (created_after inclusive, created_before exclusive), the
// presets, and a range that cannot match.

/** A `datetime-local` value ("2026-12-08T09:30") as an RFC 3339 UTC instant; undefined when empty or invalid. */
export function localToInstant(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined;
  const date = new Date(value); // no zone: local time, as the input shows it
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An instant as a `datetime-local` value in local time, to the minute. */
export function instantToLocal(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** The presets: the last hour, day, week, from `now`. */
export const presets: { label: string; milliseconds: number }[] = [
  { label: "Last hour", milliseconds: 3_600_000 },
  { label: "Last 24 hours", milliseconds: 86_400_000 },
  { label: "Last 7 days", milliseconds: 7 * 86_400_000 },
];

/** ListRuns' time filter from the two inputs, or why they cannot be used. */
export function timeFilter(from: string, to: string): { createdAfter?: string; createdBefore?: string } | string {
  const after = from ? localToInstant(from) : undefined;
  const before = to ? localToInstant(to) : undefined;
  if (from && !after) return "The start of the range is not a date and time.";
  if (to && !before) return "The end of the range is not a date and time.";
  if (after && before && after >= before) return "The range ends before it starts.";
  return { ...(after ? { createdAfter: after } : {}), ...(before ? { createdBefore: before } : {}) };
}
