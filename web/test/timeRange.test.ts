// The runs list's time range: local inputs into ListRuns' instants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { instantToLocal, localToInstant, timeFilter } from "../src/lib/timeRange";

test("a local date and time becomes the same instant in UTC, and back", () => {
  const local = "2026-12-08T09:30";
  const instant = localToInstant(local);
  assert.ok(instant);
  assert.equal(new Date(instant!).getTime(), new Date(2026, 11, 8, 9, 30).getTime());
  assert.equal(instantToLocal(new Date(instant!)), local);
  assert.equal(localToInstant(""), undefined);
  assert.equal(localToInstant("yesterday"), undefined);
  assert.equal(localToInstant("2026-13-45T99:99"), undefined);
});

test("either end may be open; a range that ends before it starts is refused", () => {
  assert.deepEqual(timeFilter("", ""), {});
  const from = timeFilter("2026-12-08T09:00", "");
  assert.ok(typeof from === "object" && from.createdAfter && !from.createdBefore);
  const to = timeFilter("", "2026-12-08T10:00");
  assert.ok(typeof to === "object" && !to.createdAfter && to.createdBefore);
  assert.match(String(timeFilter("2026-12-08T10:00", "2026-12-08T10:00")), /ends before it starts/);
  assert.match(String(timeFilter("2026-12-08T11:00", "2026-12-08T10:00")), /ends before it starts/);
  assert.match(String(timeFilter("soon", "")), /start/);
});
