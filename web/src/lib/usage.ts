// LLM usage per model and day, for the admin chart: the gateway's buckets laid out on a
// calendar (one column per day, days without use at zero, one series per model).
import type { UsageBucket } from "../api/generated";

export interface UsageSeries {
  /** The days shown, oldest first, as `YYYY-MM-DD` (UTC). */
  days: string[];
  /** The models, by total tokens, largest first. */
  models: string[];
  /** tokens[m][d]: model m's total tokens on day d. */
  tokens: number[][];
  /** The largest day's total over all models (at least 1, to scale the chart). */
  maxDay: number;
}

/** `YYYY-MM-DD` of a date in UTC. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The `days` days up to and including `today`'s, with each model's tokens per day. */
export function usageSeries(buckets: readonly UsageBucket[], days: number, today: Date): UsageSeries {
  const dayList: string[] = [];
  for (let i = days - 1; i >= 0; i--) dayList.push(utcDay(new Date(today.getTime() - i * 86_400_000)));
  const index = new Map(dayList.map((day, i) => [day, i]));
  const perModel = new Map<string, number[]>();
  for (const bucket of buckets) {
    const at = bucket.startTime ? index.get(bucket.startTime.slice(0, 10)) : undefined;
    if (at === undefined) continue;
    const model = bucket.model || "(unknown)";
    const row = perModel.get(model) ?? new Array<number>(days).fill(0);
    row[at] = (row[at] ?? 0) + Number(bucket.usage?.totalTokens ?? "0");
    perModel.set(model, row);
  }
  const total = (row: number[]) => row.reduce((a, b) => a + b, 0);
  const models = [...perModel.keys()].sort((a, b) => total(perModel.get(b)!) - total(perModel.get(a)!) || a.localeCompare(b));
  const tokens = models.map((m) => perModel.get(m)!);
  let maxDay = 1;
  for (let d = 0; d < days; d++) maxDay = Math.max(maxDay, tokens.reduce((sum, row) => sum + (row[d] ?? 0), 0));
  return { days: dayList, models, tokens, maxDay };
}

/** A round axis maximum at or above `value` (1, 2, 5 × a power of ten). */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
