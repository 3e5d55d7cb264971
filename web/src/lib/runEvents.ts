// A run's events (WatchRun) as rows for the run inspector: one line each, with the step it
// belongs to (a node's events take the step of that node's start), an answer's deltas in a row
// joined into one, so the events can sit beside the checkpoint of their step.
import type { ExecutionEvent } from "../api/generated";
import type { JsonValue } from "../api/runtime";

/** One event, as the inspector lists it. */
export interface EventRow {
  sequence: number;
  at: string;
  kind: string;
  nodeId?: string;
  step?: number;
  summary: string;
  detail?: JsonValue;
}

/** The payload's name (`nodeStarted`, …) of an event. */
function kindOf(event: ExecutionEvent): string {
  for (const key of Object.keys(event)) {
    if (key !== "runId" && key !== "sequence" && key !== "emittedAt") return key;
  }
  return "unknown";
}

/** One row per event, in sequence order; consecutive answer deltas of a node joined. */
export function eventRows(events: ExecutionEvent[]): EventRow[] {
  const sorted = [...events].sort((a, b) => Number(a.sequence ?? 0) - Number(b.sequence ?? 0));
  const stepOfNode = new Map<string, number>();
  const rows: EventRow[] = [];
  const seen = new Set<number>();
  for (const event of sorted) {
    const sequence = Number(event.sequence ?? 0);
    if (seen.has(sequence)) continue;
    seen.add(sequence);
    const kind = kindOf(event);
    const row: EventRow = { sequence, at: event.emittedAt ?? "", kind, summary: "" };
    if (event.nodeStarted) {
      const { nodeId = "", step = 0, nodeKind = "" } = event.nodeStarted;
      stepOfNode.set(nodeId, step);
      Object.assign(row, { nodeId, step, summary: `${nodeId} (${nodeKind}) started` });
    } else if (event.nodeFinished) {
      const { nodeId = "", step, elapsed } = event.nodeFinished;
      Object.assign(row, {
        nodeId,
        step: step ?? stepOfNode.get(nodeId),
        summary: `${nodeId} finished${elapsed ? ` in ${elapsed}` : ""}`,
      });
      if (event.nodeFinished.stateUpdate) row.detail = event.nodeFinished.stateUpdate;
    } else if (event.answerDelta) {
      const nodeId = event.answerDelta.nodeId ?? "";
      const text = event.answerDelta.text ?? "";
      const last = rows[rows.length - 1];
      if (last && last.kind === "answerDelta" && last.nodeId === nodeId) {
        last.detail = String(last.detail ?? "") + text;
        last.summary = `answer from ${nodeId}: ${String(last.detail).length} characters`;
        continue;
      }
      Object.assign(row, {
        nodeId,
        step: stepOfNode.get(nodeId),
        summary: `answer from ${nodeId}: ${text.length} characters`,
        detail: text,
      });
    } else if (event.toolCall) {
      const { nodeId = "", toolName = "" } = event.toolCall;
      Object.assign(row, { nodeId, step: stepOfNode.get(nodeId), summary: `${nodeId} called ${toolName}` });
      if (event.toolCall.arguments) row.detail = event.toolCall.arguments;
    } else if (event.toolResult) {
      const { nodeId = "", isError, errorMessage, elapsed } = event.toolResult;
      Object.assign(row, {
        nodeId,
        step: stepOfNode.get(nodeId),
        summary: isError
          ? `${nodeId}: the tool failed: ${errorMessage ?? ""}`
          : `${nodeId}: the tool answered${elapsed ? ` in ${elapsed}` : ""}`,
      });
      if (event.toolResult.result) row.detail = event.toolResult.result;
    } else if (event.interrupt) {
      const nodeId = event.interrupt.nodeId ?? "";
      Object.assign(row, { nodeId, step: stepOfNode.get(nodeId), summary: `waiting for input: ${event.interrupt.prompt ?? ""}` });
    } else if (event.runStarted) {
      row.summary = "run started";
    } else if (event.runResumed) {
      row.summary = "resumed with a person's answer";
    } else if (event.runFinished) {
      row.summary = "run finished";
    } else if (event.runFailed) {
      const error = event.runFailed.error;
      row.summary = `run failed: ${error?.code ?? ""} ${error?.message ?? ""}`.trim();
      if (error?.nodeId) row.nodeId = error.nodeId;
    } else if (event.runCancelled) {
      row.summary = `run cancelled${event.runCancelled.reason ? `: ${event.runCancelled.reason}` : ""}`;
    } else {
      row.summary = kind;
    }
    rows.push(row);
  }
  return rows;
}
