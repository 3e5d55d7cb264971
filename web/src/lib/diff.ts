// The difference between two states of a run (two checkpoints), for the run inspector: every
// path whose value was added, removed or changed, in a stable order. Objects are compared key by
// key, arrays index by index (a longer array's extra items are added, a shorter one's removed),
// anything else by value.
import type { JsonValue } from "../api/runtime";

export interface Change {
  /** `answer`, `kb.results[0].score`, `["odd key"]`. */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: JsonValue;
  after?: JsonValue;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function keyPath(prefix: string, key: string): string {
  const plain = /^[A-Za-z_$][\w$]*$/.test(key);
  if (plain) return prefix ? `${prefix}.${key}` : key;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/** The changes from `before` to `after` (both JSON values; undefined: absent). */
export function diffState(before: JsonValue | undefined, after: JsonValue | undefined, prefix = ""): Change[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ path: prefix || "(state)", kind: "added", after: after as JsonValue }];
  if (after === undefined) return [{ path: prefix || "(state)", kind: "removed", before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffState(before[key], after[key], keyPath(prefix, key)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    const changes: Change[] = [];
    for (let i = 0; i < length; i++) changes.push(...diffState(before[i], after[i], `${prefix}[${i}]`));
    return changes;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: prefix || "(state)", kind: "changed", before, after }];
}
