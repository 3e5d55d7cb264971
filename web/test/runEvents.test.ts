// A run's events as the inspector's rows: steps, joined answer deltas, duplicates, order.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ExecutionEvent } from "../src/api/generated";
import { eventRows } from "../src/lib/runEvents";

const runId = "r1";
const events: ExecutionEvent[] = [
  { runId, sequence: "1", runStarted: { agentId: "a" } },
  { runId, sequence: "2", nodeStarted: { nodeId: "kb_lookup", nodeKind: "tool", step: 1 } },
  { runId, sequence: "3", toolCall: { callId: "c1", nodeId: "kb_lookup", toolName: "kb_search", arguments: { query: "q" } } },
  { runId, sequence: "4", toolResult: { callId: "c1", nodeId: "kb_lookup", result: { results: [] }, elapsed: "0.004s" } },
  { runId, sequence: "5", nodeFinished: { nodeId: "kb_lookup", step: 1, checkpointId: "k1", elapsed: "0.006s" } },
  { runId, sequence: "6", nodeStarted: { nodeId: "answer", nodeKind: "llm", step: 2 } },
  { runId, sequence: "7", answerDelta: { nodeId: "answer", text: "Hello " } },
  { runId, sequence: "8", answerDelta: { nodeId: "answer", text: "world" } },
  { runId, sequence: "9", nodeFinished: { nodeId: "answer", step: 2, stateUpdate: { answer: "Hello world" } } },
  { runId, sequence: "10", runFinished: { answer: "Hello world" } },
];

test("each event a row with its step; a node's events take the step of its start", () => {
  const rows = eventRows(events);
  assert.deepEqual(
    rows.map((r) => [r.sequence, r.kind, r.step]),
    [
      [1, "runStarted", undefined],
      [2, "nodeStarted", 1],
      [3, "toolCall", 1],
      [4, "toolResult", 1],
      [5, "nodeFinished", 1],
      [6, "nodeStarted", 2],
      [7, "answerDelta", 2],
      [9, "nodeFinished", 2],
      [10, "runFinished", undefined],
    ],
  );
  assert.equal(rows[2]?.summary, "kb_lookup called kb_search");
  assert.deepEqual(rows[2]?.detail, { query: "q" });
  assert.equal(rows[4]?.summary, "kb_lookup finished in 0.006s");
});

test("consecutive answer deltas of a node are one row with the whole text", () => {
  const delta = eventRows(events).find((r) => r.kind === "answerDelta");
  assert.equal(delta?.detail, "Hello world");
  assert.equal(delta?.summary, "answer from answer: 11 characters");
});

test("out of order and repeated events are sorted and counted once; failures say why", () => {
  const shuffled = [events[4]!, events[1]!, events[4]!, events[0]!];
  assert.deepEqual(
    eventRows(shuffled).map((r) => r.sequence),
    [1, 2, 5],
  );
  const failed = eventRows([
    { runId, sequence: "1", runFailed: { error: { code: "TOOL_FAILED", message: "boom", nodeId: "kb_lookup" } } },
  ]);
  assert.equal(failed[0]?.summary, "run failed: TOOL_FAILED boom");
  assert.equal(failed[0]?.nodeId, "kb_lookup");
});
