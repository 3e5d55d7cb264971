// Stream reassembly: the SSE parser gives the same events however the body is cut into chunks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SSEParser } from "../src/api/sse";
import type { RawEvent } from "../src/api/sse";

const body =
  "event: userMessage\ndata: {\"userMessage\":{\"content\":\"héllo ✓\"}}\n\n" +
  ": keep-alive\n\n" +
  "event: event\nid: 1\ndata: {\"event\":{\"sequence\":\"1\"}}\n\n" +
  "event: event\r\nid: 2\r\ndata: {\"event\":\r\ndata: {\"sequence\":\"2\"}}\r\n\r\n" +
  "data: plain\n\n";

const expected: RawEvent[] = [
  { event: "userMessage", data: "{\"userMessage\":{\"content\":\"héllo ✓\"}}" },
  { event: "event", id: "1", data: "{\"event\":{\"sequence\":\"1\"}}" },
  { event: "event", id: "2", data: "{\"event\":\n{\"sequence\":\"2\"}}" },
  { event: "message", id: "2", data: "plain" },
];

function parseInChunks(text: string, cuts: number[]): RawEvent[] {
  const parser = new SSEParser();
  const events: RawEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    events.push(...parser.push(text.slice(start, cut)));
    start = cut;
  }
  return [...events, ...parser.end()];
}

test("a whole body parses into its events; comments are skipped; data lines join", () => {
  assert.deepEqual(parseInChunks(body, []), expected);
});

test("the same events whatever single place the body is cut at (CRLF split included)", () => {
  for (let cut = 0; cut <= body.length; cut++) {
    assert.deepEqual(parseInChunks(body, [cut]), expected, `cut at ${cut}`);
  }
});

test("the same events when every character arrives alone", () => {
  const cuts = Array.from({ length: body.length }, (_, i) => i);
  assert.deepEqual(parseInChunks(body, cuts), expected);
});

test("an event the stream never closed is dropped", () => {
  assert.deepEqual(parseInChunks("event: event\ndata: {}\n", []), []);
});

test("a field without a value, and unknown fields, are harmless", () => {
  assert.deepEqual(parseInChunks("retry: 10\nfoo: bar\ndata\n\n", []), [{ event: "message", data: "" }]);
});
