// State diff: what a step changed in a run's state, path by path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffState } from "../src/lib/diff";

test("equal states: no change", () => {
  assert.deepEqual(diffState({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }), []);
});

test("added, removed and changed keys, nested, in key order", () => {
  assert.deepEqual(diffState({ input: "hi", kb: { top: 1 }, gone: true }, { input: "hi", kb: { top: 2 }, answer: "yes" }), [
    { path: "answer", kind: "added", after: "yes" },
    { path: "gone", kind: "removed", before: true },
    { path: "kb.top", kind: "changed", before: 1, after: 2 },
  ]);
});

test("arrays index by index; a longer one adds, a shorter one removes", () => {
  assert.deepEqual(diffState({ h: ["a", "b"] }, { h: ["a", "c", "d"] }), [
    { path: "h[1]", kind: "changed", before: "b", after: "c" },
    { path: "h[2]", kind: "added", after: "d" },
  ]);
  assert.deepEqual(diffState({ h: [1, 2] }, { h: [1] }), [{ path: "h[1]", kind: "removed", before: 2 }]);
});

test("a value that changes type is one change; odd keys are quoted", () => {
  assert.deepEqual(diffState({ x: { a: 1 } }, { x: [1] }), [{ path: "x", kind: "changed", before: { a: 1 }, after: [1] }]);
  assert.deepEqual(diffState({}, { "a b": null }), [{ path: '["a b"]', kind: "added", after: null }]);
});

test("from nothing: the whole state is added", () => {
  assert.deepEqual(diffState(undefined, { a: 1 }), [{ path: "(state)", kind: "added", after: { a: 1 } }]);
});
