// A run's events into the chat's view, and following a run across dropped connections: every
// event applied once, in order, re-attaching with the last sequence seen.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SendMessageResponse } from "../src/api/generated";
import { NetworkError } from "../src/api/runtime";
import type { JsonObject, ServerEvent } from "../src/api/runtime";
import { applyEvent, durationMs, emptyRun, followRun, savedCitations } from "../src/lib/run";
import type { RunView } from "../src/lib/run";

const runId = "r1";

/** The events of a whole run of the demo agent: two nodes, an answer in two pieces. */
function demoRun(): ServerEvent<SendMessageResponse>[] {
  const events: SendMessageResponse[] = [
    { userMessage: { id: "u1", role: "MESSAGE_ROLE_USER", content: "Hi" } },
    { event: { runId, sequence: "1", runStarted: { agentId: "a" } } },
    { event: { runId, sequence: "2", nodeStarted: { nodeId: "kb_lookup", nodeKind: "tool", step: 1 } } },
    { event: { runId, sequence: "3", toolCall: { callId: "c1", nodeId: "kb_lookup", toolName: "kb_search" } } },
    { event: { runId, sequence: "4", toolResult: { callId: "c1", isError: false, elapsed: "0.004s" } } },
    { event: { runId, sequence: "5", nodeFinished: { nodeId: "kb_lookup", step: 1, elapsed: "0.005s", stateUpdate: { kb: 1 } } } },
    { event: { runId, sequence: "6", nodeStarted: { nodeId: "answer", nodeKind: "llm", step: 2 } } },
    { event: { runId, sequence: "7", answerDelta: { nodeId: "answer", text: "Open **Forgot" } } },
    { event: { runId, sequence: "8", answerDelta: { nodeId: "answer", text: " password**." } } },
    { event: { runId, sequence: "9", nodeFinished: { nodeId: "answer", step: 2, elapsed: "1.5s" } } },
    { event: { runId, sequence: "10", runFinished: { answer: "Open **Forgot password**." } } },
    { assistantMessage: { id: "m2", role: "MESSAGE_ROLE_ASSISTANT", content: "Open **Forgot password**." } },
  ];
  return events.map((data) => {
    const event: ServerEvent<SendMessageResponse> = {
      event: data.userMessage ? "userMessage" : data.assistantMessage ? "assistantMessage" : "event",
      data,
    };
    if (data.event?.sequence) event.id = data.event.sequence;
    return event;
  });
}

/** The events WatchConversation answers after a sequence: the rest of the run, then the message. */
function after(sequence: number): ServerEvent<SendMessageResponse>[] {
  return demoRun().filter((e) => !e.data.userMessage && Number(e.data.event?.sequence ?? "99") > sequence);
}

async function* stream(events: ServerEvent<SendMessageResponse>[], failAfter?: number) {
  let sent = 0;
  for (const event of events) {
    if (failAfter !== undefined && sent === failAfter) throw new NetworkError("connection reset");
    sent += 1;
    yield event;
  }
}

function finalView(): RunView {
  return demoRun().reduce((view, e) => applyEvent(view, e.data), emptyRun());
}

test("a whole run builds the answer, the steps with durations, the tools", () => {
  const views: RunView[] = [];
  let view = emptyRun();
  for (const e of demoRun()) {
    view = applyEvent(view, e.data);
    views.push(view);
  }
  // The answer streams: after the first delta only its text.
  assert.equal(views[7]!.answer, "Open **Forgot");
  assert.equal(views[8]!.answer, "Open **Forgot password**.");
  assert.equal(view.status, "finished");
  assert.equal(view.runId, runId);
  assert.equal(view.lastSequence, 10);
  assert.deepEqual(
    view.steps.map((s) => [s.nodeId, s.status, s.durationMs]),
    [
      ["kb_lookup", "finished", 5],
      ["answer", "finished", 1500],
    ],
  );
  assert.deepEqual(view.steps[0]!.output, { kb: 1 });
  assert.deepEqual(view.tools, [{ callId: "c1", nodeId: "kb_lookup", toolName: "kb_search", isError: false, durationMs: 4 }]);
  assert.equal(view.assistantMessage?.id, "m2");
  assert.equal(view.userMessage?.id, "u1");
});

test("an event seen twice (a re-attach that overlaps) is applied once", () => {
  let view = emptyRun();
  for (const e of [...demoRun().slice(0, 9), ...demoRun().slice(5)]) view = applyEvent(view, e.data);
  assert.deepEqual(view, finalView());
});

test("durations in the proto3 JSON form", () => {
  assert.equal(durationMs("0.000081372s"), 0.081);
  assert.equal(durationMs("2s"), 2000);
  assert.equal(durationMs(""), undefined);
  assert.equal(durationMs("soon"), undefined);
});

test("a failed run and a run waiting for input end the stream", () => {
  const failed = applyEvent(emptyRun(), { event: { sequence: "1", runFailed: { error: { message: "boom" } } } });
  assert.equal(failed.status, "failed");
  assert.equal(failed.error, "boom");
  const waiting = applyEvent(emptyRun(), { event: { sequence: "1", interrupt: { prompt: "Which order?" } } });
  assert.equal(waiting.status, "waiting");
  assert.equal(waiting.interrupt?.prompt, "Which order?");
});

test("a dropped connection re-attaches after the last sequence and ends with the same view", async () => {
  for (let failAfter = 1; failAfter < demoRun().length; failAfter++) {
    const resumedFrom: number[] = [];
    const updates: RunView[] = [];
    const view = await followRun(
      {
        start: () => stream(demoRun(), failAfter),
        resume: (sequence) => {
          resumedFrom.push(sequence);
          return stream(after(sequence));
        },
      },
      (v) => updates.push(v),
      { delay: async () => undefined },
    );
    assert.deepEqual(view, finalView(), `dropped after ${failAfter} events`);
    assert.equal(resumedFrom.length, 1);
    // It asks for what follows the last event it applied.
    const applied = demoRun().slice(0, failAfter).filter((e) => e.data.event);
    assert.equal(resumedFrom[0], applied.length ? Number(applied[applied.length - 1]!.data.event!.sequence) : 0);
    // The answer never went backwards.
    for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.answer.startsWith(updates[i - 1]!.answer.slice(0, 5)));
  }
});

test("a stream that ends cleanly before the run did re-attaches too", async () => {
  const view = await followRun(
    { start: () => stream(demoRun().slice(0, 4)), resume: (s) => stream(after(s)) },
    () => undefined,
    { delay: async () => undefined },
  );
  assert.deepEqual(view, finalView());
});

test("drops in a row give up after maxReconnects; a re-attach that progressed resets the count", async () => {
  let calls = 0;
  await assert.rejects(
    followRun(
      { start: () => stream(demoRun(), 2), resume: (s) => (calls++, stream(after(s), 0)) },
      () => undefined,
      { delay: async () => undefined, maxReconnects: 3 },
    ),
    NetworkError,
  );
  assert.equal(calls, 3);
  // Each re-attach gets one more event before it drops: it never gives up, and ends complete.
  const view = await followRun(
    { start: () => stream(demoRun(), 2), resume: (s) => stream(after(s), 1) },
    () => undefined,
    { delay: async () => undefined, maxReconnects: 2 },
  );
  assert.equal(view.status, "finished");
  assert.equal(view.assistantMessage?.id, "m2");
});

test("an error that is not a dropped connection is the caller's, at once", async () => {
  const failing = async function* (): AsyncGenerator<ServerEvent<SendMessageResponse>> {
    throw new Error("ABORTED: another run is in progress");
  };
  let resumed = false;
  await assert.rejects(
    followRun({ start: failing, resume: () => ((resumed = true), stream([])) }, () => undefined, {
      delay: async () => undefined,
    }),
    /another run/,
  );
  assert.equal(resumed, false);
});

test("knowledge-base results become citations (once each), a created ticket a ticket link", () => {
  const kb: JsonObject = {
    mode: "lexical",
    results: [
      { chunk_id: "20", document_id: "d1", heading_path: ["Reset", "Forgotten"], score: 2.1, text: "Choose **Forgot**.", title: "reset.md" },
      { chunk_id: 21, document_id: "d1", text: "Settings.", title: "reset.md" },
      { chunk_id: "x" },
    ],
  };
  let view = emptyRun();
  view = applyEvent(view, { event: { sequence: "1", toolCall: { callId: "c1", toolName: "kb_search" } } });
  view = applyEvent(view, { event: { sequence: "2", toolResult: { callId: "c1", result: kb } } });
  view = applyEvent(view, { event: { sequence: "3", toolCall: { callId: "c2", toolName: "kb_search" } } });
  view = applyEvent(view, { event: { sequence: "4", toolResult: { callId: "c2", result: kb } } });
  assert.deepEqual(view.citations, [
    { documentId: "d1", chunkId: "20", title: "reset.md", headingPath: ["Reset", "Forgotten"], score: 2.1, text: "Choose **Forgot**." },
    { documentId: "d1", chunkId: "21", title: "reset.md", headingPath: [], text: "Settings." },
  ]);
  const ticket: JsonObject = { replayed: false, ticket: { id: "t1", number: 7, status: "open", title: "Help", url: "/tickets/t1" } };
  view = applyEvent(view, { event: { sequence: "5", toolResult: { callId: "c3", result: ticket } } });
  assert.deepEqual(view.tickets, [{ id: "t1", number: 7, status: "open", title: "Help" }]);
  // A failed tool's result is no source.
  const failed = applyEvent(emptyRun(), { event: { sequence: "1", toolResult: { callId: "c", isError: true, result: kb } } });
  assert.deepEqual(failed.citations, []);
});

test("the chunks saved with an assistant message come back as its citations", () => {
  const saved = JSON.stringify([
    { document_id: "d1", chunk_id: 3, title: "Reset", heading_path: ["A", "B"], score: 2.5, text: "Open the page" },
    { document_id: "d2", chunk_id: "7", title: "Other", text: "" },
    { chunk_id: 1 },
  ]);
  assert.deepEqual(savedCitations({ metadata: { citations: saved } }), [
    { documentId: "d1", chunkId: "3", title: "Reset", headingPath: ["A", "B"], text: "Open the page", score: 2.5 },
    { documentId: "d2", chunkId: "7", title: "Other", headingPath: [], text: "" },
  ]);
  assert.deepEqual(savedCitations({ metadata: { citations: "not json" } }), []);
  assert.deepEqual(savedCitations({}), []);
  assert.deepEqual(savedCitations(undefined), []);
});
