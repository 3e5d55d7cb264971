// A message's run as the chat shows it, built from the events of SendMessage (and, after a
// dropped connection, of WatchConversation from the last sequence seen): the answer as it
// streams, the step timeline, tool calls, and how the run ended. Pure functions, so the
// reassembly and the reconnect rules are tested without a browser (web/test).
import type { ExecutionEvent, Interrupt, Message, SendMessageResponse } from "../api/generated";
import type { ServerEvent } from "../api/runtime";

/** One node of the flow as it ran. */
export interface Step {
  nodeId: string;
  kind: string;
  step: number;
  status: "running" | "finished";
  /** When it started, from the event's emit time (ms since the epoch), when known. */
  startedAt?: number;
  /** How long it took, from NodeFinished.elapsed. */
  durationMs?: number;
  /** Its update to the state (NodeFinished.state_update), shown on demand. */
  output?: unknown;
}

export interface ToolUse {
  callId: string;
  nodeId: string;
  toolName: string;
  isError?: boolean;
  errorMessage?: string;
  durationMs?: number;
}

/** A knowledge-base chunk a tool of the run found (a kb_search result): what the answer rests on. */
export interface Citation {
  documentId: string;
  chunkId: string;
  title: string;
  headingPath: string[];
  score?: number;
  text: string;
}

/** A ticket a tool of the run created or touched. */
export interface TicketRef {
  id: string;
  number?: number;
  status?: string;
  title?: string;
}

export type RunStatus = "starting" | "running" | "finished" | "failed" | "waiting" | "cancelled";

export interface RunView {
  runId: string;
  status: RunStatus;
  /** The highest event sequence applied: what `Last-Event-ID` asks to continue after. */
  lastSequence: number;
  steps: Step[];
  tools: ToolUse[];
  citations: Citation[];
  tickets: TicketRef[];
  /** The answer so far (AnswerDelta texts), replaced by the saved message at the end. */
  answer: string;
  userMessage?: Message;
  assistantMessage?: Message;
  error?: string;
  interrupt?: Interrupt;
}

export function emptyRun(): RunView {
  return {
    runId: "",
    status: "starting",
    lastSequence: 0,
    steps: [],
    tools: [],
    citations: [],
    tickets: [],
    answer: "",
  };
}

/** A protobuf Duration in JSON (`"1.5s"`) in milliseconds; undefined when absent or malformed. */
export function durationMs(duration: string | undefined): number | undefined {
  if (!duration) return undefined;
  const match = /^(-?\d+(?:\.\d+)?)s$/.exec(duration);
  return match ? Math.round(Number(match[1]) * 1000 * 1000) / 1000 : undefined;
}

/** Whether the run has ended, one way or another (its stream ends then). */
export function isTerminal(view: RunView): boolean {
  return view.assistantMessage !== undefined || ["failed", "waiting", "cancelled"].includes(view.status);
}

/** The view with one server event applied; an event already applied (by sequence) changes nothing. */
export function applyEvent(view: RunView, message: SendMessageResponse): RunView {
  if (message.userMessage) return { ...view, userMessage: message.userMessage };
  if (message.assistantMessage) {
    return {
      ...view,
      assistantMessage: message.assistantMessage,
      answer: message.assistantMessage.content ?? view.answer,
      status: view.status === "failed" ? view.status : "finished",
    };
  }
  if (message.event) return applyExecutionEvent(view, message.event);
  return view;
}

function applyExecutionEvent(view: RunView, event: ExecutionEvent): RunView {
  const sequence = Number(event.sequence ?? "0");
  if (sequence > 0 && sequence <= view.lastSequence) return view; // seen before the reconnect
  const next: RunView = { ...view, lastSequence: Math.max(view.lastSequence, sequence) };
  if (event.runId) next.runId = event.runId;
  const at = event.emittedAt ? Date.parse(event.emittedAt) : undefined;
  if (event.runStarted) next.status = "running";
  if (event.nodeStarted) {
    const started = event.nodeStarted;
    const step: Step = {
      nodeId: started.nodeId ?? "",
      kind: started.nodeKind ?? "",
      step: started.step ?? 0,
      status: "running",
    };
    if (at !== undefined && !Number.isNaN(at)) step.startedAt = at;
    next.steps = [...view.steps, step];
    next.status = "running";
  }
  if (event.nodeFinished) {
    const finished = event.nodeFinished;
    const index = findLastIndex(view.steps, (s) => s.nodeId === finished.nodeId && s.status === "running");
    const update: Partial<Step> = { status: "finished", output: finished.stateUpdate ?? {} };
    const ms = durationMs(finished.elapsed);
    if (ms !== undefined) update.durationMs = ms;
    if (index >= 0) {
      next.steps = view.steps.map((s, i) => (i === index ? { ...s, ...update } : s));
    } else {
      next.steps = [
        ...view.steps,
        { nodeId: finished.nodeId ?? "", kind: "", step: finished.step ?? 0, status: "finished", ...update },
      ];
    }
  }
  if (event.answerDelta) next.answer = view.answer + (event.answerDelta.text ?? "");
  if (event.toolCall) {
    next.tools = [
      ...view.tools,
      {
        callId: event.toolCall.callId ?? "",
        nodeId: event.toolCall.nodeId ?? "",
        toolName: event.toolCall.toolName ?? event.toolCall.toolId ?? "",
      },
    ];
  }
  if (event.toolResult) {
    const result = event.toolResult;
    next.tools = view.tools.map((tool) => {
      if (tool.callId !== result.callId) return tool;
      const done: ToolUse = { ...tool, isError: result.isError ?? false };
      if (result.errorMessage) done.errorMessage = result.errorMessage;
      const ms = durationMs(result.elapsed);
      if (ms !== undefined) done.durationMs = ms;
      return done;
    });
    if (!result.isError && result.result) {
      const found = citationsIn(result.result).filter(
        (c) => !view.citations.some((seen) => seen.documentId === c.documentId && seen.chunkId === c.chunkId),
      );
      if (found.length > 0) next.citations = [...view.citations, ...found];
      const ticket = ticketIn(result.result);
      if (ticket && !view.tickets.some((t) => t.id === ticket.id)) next.tickets = [...view.tickets, ticket];
    }
  }
  if (event.interrupt) {
    next.status = "waiting";
    next.interrupt = event.interrupt;
  }
  if (event.runResumed) {
    next.status = "running";
    delete next.interrupt;
  }
  if (event.runFinished) {
    next.status = "finished";
    if (!next.answer && event.runFinished.answer) next.answer = event.runFinished.answer;
  }
  if (event.runFailed) {
    next.status = "failed";
    next.error = event.runFailed.error?.message ?? "The run failed.";
  }
  if (event.runCancelled) {
    next.status = "cancelled";
    next.error = event.runCancelled.reason ? `Cancelled: ${event.runCancelled.reason}` : "The run was cancelled.";
  }
  return next;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The knowledge-base results in a tool's result (`results: [{document_id, chunk_id, text, …}]`). */
export function citationsIn(result: unknown): Citation[] {
  const results = record(result)?.["results"];
  if (!Array.isArray(results)) return [];
  const citations: Citation[] = [];
  for (const item of results) {
    const entry = record(item);
    const documentId = entry?.["document_id"];
    const chunkId = entry?.["chunk_id"];
    if (!entry || typeof documentId !== "string" || (typeof chunkId !== "string" && typeof chunkId !== "number")) {
      continue;
    }
    const heading = entry["heading_path"];
    const citation: Citation = {
      documentId,
      chunkId: String(chunkId),
      title: typeof entry["title"] === "string" ? entry["title"] : documentId,
      headingPath: Array.isArray(heading) ? heading.filter((h): h is string => typeof h === "string") : [],
      text: typeof entry["text"] === "string" ? entry["text"] : "",
    };
    if (typeof entry["score"] === "number") citation.score = entry["score"];
    citations.push(citation);
  }
  return citations;
}

/**
 * The chunks saved with an assistant message (its `citations` metadata, a JSON array of
 * kb_search results, written by the execution service), so a conversation read again shows
 * what every answer rests on; none when absent or not JSON.
 */
export function savedCitations(message: { metadata?: Record<string, string> } | undefined): Citation[] {
  const text = message?.metadata?.["citations"];
  if (!text) return [];
  try {
    return citationsIn({ results: JSON.parse(text) as unknown });
  } catch {
    return [];
  }
}

/** The ticket in a tool's result (`ticket: {id, number, status, title}`), if any. */
export function ticketIn(result: unknown): TicketRef | undefined {
  const ticket = record(record(result)?.["ticket"]);
  if (!ticket || typeof ticket["id"] !== "string") return undefined;
  const ref: TicketRef = { id: ticket["id"] };
  if (typeof ticket["number"] === "number") ref.number = ticket["number"];
  if (typeof ticket["status"] === "string") ref.status = ticket["status"];
  if (typeof ticket["title"] === "string") ref.title = ticket["title"];
  return ref;
}

function findLastIndex<T>(items: T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return i;
  return -1;
}

/** How to open the stream: the first time (SendMessage) and to re-attach after `afterSequence`. */
export interface StreamSource {
  start(): AsyncIterable<ServerEvent<SendMessageResponse>>;
  resume(afterSequence: number): AsyncIterable<ServerEvent<SendMessageResponse>>;
}

export interface FollowOptions {
  /** Re-attach attempts after a dropped connection before giving up (default 5). */
  maxReconnects?: number;
  /** Waits before a re-attach attempt (default: 250 ms × attempt). */
  delay?: (attempt: number) => Promise<void>;
  /** Whether an error means the connection dropped (then re-attach) rather than the call failed. */
  isDisconnect?: (error: unknown) => boolean;
  signal?: AbortSignal;
}

/**
 * Follows a run to its end: applies every event to the view (calling `onUpdate` after each),
 * and when the connection drops, or the stream ends before the run did, re-attaches with the
 * last sequence seen, so every event is applied once and in order. Resolves with the final
 * view; rejects with the call's error (or the last disconnect after `maxReconnects`).
 */
export async function followRun(
  source: StreamSource,
  onUpdate: (view: RunView) => void,
  options: FollowOptions = {},
): Promise<RunView> {
  const maxReconnects = options.maxReconnects ?? 5;
  const delay = options.delay ?? ((attempt: number) => new Promise<void>((r) => setTimeout(r, 250 * attempt)));
  const isDisconnect = options.isDisconnect ?? ((error: unknown) => (error as Error)?.name === "NetworkError");
  let view = emptyRun();
  let attempt = 0;
  let resumedAt = 0;
  let events = source.start();
  for (;;) {
    try {
      for await (const event of events) {
        view = applyEvent(view, event.data);
        onUpdate(view);
      }
      if (isTerminal(view)) return view;
      if (options.signal?.aborted) return view;
      // The stream ended cleanly but the run did not: treat it as a drop.
      if (attempt >= maxReconnects) throw new Error("The answer stream ended before the run finished.");
    } catch (error) {
      if (options.signal?.aborted || !isDisconnect(error) || attempt >= maxReconnects) throw error;
    }
    // A re-attach that made progress starts the count again.
    attempt = view.lastSequence > resumedAt && attempt > 0 ? 1 : attempt + 1;
    resumedAt = view.lastSequence;
    await delay(attempt);
    events = source.resume(view.lastSequence);
  }
}
