import { test } from "node:test";
import assert from "node:assert/strict";
import { niceCeiling, usageSeries } from "../src/lib/usage";

test("buckets on a calendar: days without use are zero, models by total, the largest day", () => {
  const today = new Date("2026-12-07T15:00:00Z");
  const series = usageSeries(
    [
      { startTime: "2026-12-07T00:00:00Z", model: "builtin", usage: { totalTokens: "300" } },
      { startTime: "2026-12-05T00:00:00Z", model: "gpt", usage: { totalTokens: "1000" } },
      { startTime: "2026-12-05T00:00:00Z", model: "builtin", usage: { totalTokens: "50" } },
      { startTime: "2026-11-01T00:00:00Z", model: "old", usage: { totalTokens: "9" } },
    ],
    3,
    today,
  );
  assert.deepEqual(series.days, ["2026-12-05", "2026-12-06", "2026-12-07"]);
  assert.deepEqual(series.models, ["gpt", "builtin"]);
  assert.deepEqual(series.tokens, [
    [1000, 0, 0],
    [50, 0, 300],
  ]);
  assert.equal(series.maxDay, 1050);
});

test("an empty range still scales", () => {
  assert.equal(usageSeries([], 7, new Date()).maxDay, 1);
});

test("axis maxima are round", () => {
  assert.deepEqual([0, 1, 3, 17, 1050, 25870].map(niceCeiling), [1, 1, 5, 20, 2000, 50000]);
});
