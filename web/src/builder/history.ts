// Undo and redo: the documents before and after the present one. Every edit pushes the present
// onto the past and clears the future; a drag is one edit (the page commits when it ends).
import type { FlowDoc } from "./flow";

/** The present document with what undo and redo return to. */
export interface History {
  past: FlowDoc[];
  present: FlowDoc;
  future: FlowDoc[];
  /** What the last edit was (a field being typed into): the next edit with the same key replaces it. */
  key?: string;
}

/** The most edits undo reaches back. */
export const historyLimit = 200;

/** A history with nothing to undo. */
export function startHistory(doc: FlowDoc): History {
  return { past: [], present: doc, future: [] };
}

/**
 * `doc` becomes the present; the old present can be undone back to (unchanged documents are not
 * recorded). Edits with the same `key` one after another (typing in one field) are one step.
 */
export function commit(history: History, doc: FlowDoc, key?: string): History {
  if (doc === history.present) return history;
  if (key !== undefined && key === history.key) return { ...history, present: doc, future: [] };
  const past = [...history.past, history.present];
  if (past.length > historyLimit) past.shift();
  const result: History = { past, present: doc, future: [] };
  if (key !== undefined) result.key = key;
  return result;
}

/** Back one edit (unchanged when there is none). */
export function undo(history: History): History {
  const previous = history.past[history.past.length - 1];
  if (!previous) return history;
  return { past: history.past.slice(0, -1), present: previous, future: [history.present, ...history.future] };
}

/** Forward one undone edit (unchanged when there is none). */
export function redo(history: History): History {
  const next = history.future[0];
  if (!next) return history;
  return { past: [...history.past, history.present], present: next, future: history.future.slice(1) };
}
