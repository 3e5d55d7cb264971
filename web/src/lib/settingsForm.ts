// The admin forms' numbers as exact text and back: durations in seconds (proto3 JSON "3600s"),
// byte counts and other 64-bit integers as whole numbers (JSON strings), lists as comma-separated
// text, each with a readable hint. Exact both ways, so saving a form unchanged sends back what
// it was given.

/** The largest whole number the forms accept (exact in a double). */
export const MAX_WHOLE = Number.MAX_SAFE_INTEGER;

/** A Duration ("3600s", "1.5s") as seconds for a field; "" when unset or zero. */
export function durationSeconds(duration: string | undefined): string {
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(duration ?? "");
  if (!match || Number(match[1]) === 0) return "";
  return match[1]!;
}

/** Seconds typed in a field as a Duration; nothing for empty or zero; or why it is not one. */
export function secondsDuration(text: string, label: string): { value?: string; error?: string } {
  const trimmed = text.trim();
  if (trimmed === "" || Number(trimmed) === 0) return {};
  if (!/^\d+(\.\d{1,9})?$/.test(trimmed)) return { error: `${label}: a number of seconds (0: the default).` };
  if (Number(trimmed) > 315_576_000_000) return { error: `${label}: at most 315,576,000,000 seconds.` };
  return { value: `${trimmed}s` };
}

/** A whole number typed in a field (int32 or int64); nothing for empty or zero; or why it is not one. */
export function wholeNumber(text: string, label: string, max = MAX_WHOLE): { value?: number; error?: string } {
  const trimmed = text.trim();
  if (trimmed === "" || Number(trimmed) === 0) return {};
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    return { error: `${label}: a whole number (0: the default).` };
  }
  if (Number(trimmed) > max) return { error: `${label}: at most ${max}.` };
  return { value: Number(trimmed) };
}

/** A count from the server (a number, or an int64 as a string) for a field; "" when unset or zero. */
export function countText(value: number | string | undefined): string {
  return value === undefined || Number(value) === 0 ? "" : String(value);
}

/** Bytes as people read them: "1 MiB", "1.5 KiB", "300 B". */
export function humanBytes(text: string): string {
  const bytes = Number(text);
  if (!text.trim() || !Number.isFinite(bytes) || bytes <= 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Seconds as people read them: "30 days", "2 h", "90 s". */
export function humanSeconds(text: string): string {
  const seconds = Number(text);
  if (!text.trim() || !Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds >= 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds >= 3_600 && seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** A list as comma-separated text. */
export function listText(values: string[] | undefined): string {
  return (values ?? []).join(", ");
}

/** Comma-separated text as a list (blanks dropped). */
export function textList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
