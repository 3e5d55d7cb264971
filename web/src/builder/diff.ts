// The difference between two versions of a flow, for the version diff: nodes added, removed and
// changed (compared as data in normal form, positions aside), edges added and removed, the entry
// and the state channels; and the JSON diff of the two normal forms, path by path.
import { diffState } from "../lib/diff";
import type { Change } from "../lib/diff";
import type { JsonValue } from "../api/runtime";
import { graphEdges, normalForm, sameJson } from "./flow";
import type { FlowDoc } from "./flow";

/** What changed from one version to another. */
export interface FlowDiff {
  addedNodes: string[];
  removedNodes: string[];
  changedNodes: string[];
  /** Edges as `from → to` with their label: `kb_helpful → answer_from_kb [state.x > 1]`. */
  addedEdges: string[];
  removedEdges: string[];
  entryChanged: boolean;
  changedChannels: string[];
  /** The JSON diff of the two normal forms. */
  changes: Change[];
}

/** An edge's identity across versions. */
export function edgeKey(edge: { from: string; to: string; label?: string }): string {
  return `${edge.from} → ${edge.to}${edge.label ? ` [${edge.label}]` : ""}`;
}

/** The difference from `before` to `after`. */
export function diffFlows(before: FlowDoc, after: FlowDoc): FlowDiff {
  const left = normalForm(before);
  const right = normalForm(after);
  const leftNodes = new Map(left.nodes.map((node) => [node.id, node]));
  const rightNodes = new Map(right.nodes.map((node) => [node.id, node]));
  const leftEdges = new Set(graphEdges(left).map(edgeKey));
  const rightEdges = new Set(graphEdges(right).map(edgeKey));
  const channels = new Set([...Object.keys(left.state ?? {}), ...Object.keys(right.state ?? {})]);
  return {
    addedNodes: [...rightNodes.keys()].filter((id) => !leftNodes.has(id)),
    removedNodes: [...leftNodes.keys()].filter((id) => !rightNodes.has(id)),
    changedNodes: [...rightNodes.keys()].filter(
      (id) => leftNodes.has(id) && !sameJson(leftNodes.get(id), rightNodes.get(id)),
    ),
    addedEdges: [...rightEdges].filter((key) => !leftEdges.has(key)),
    removedEdges: [...leftEdges].filter((key) => !rightEdges.has(key)),
    entryChanged: left.entry !== right.entry,
    changedChannels: [...channels].filter((name) => !sameJson(left.state?.[name], right.state?.[name])).sort(),
    changes: diffState(left as unknown as JsonValue, right as unknown as JsonValue),
  };
}

/** Whether two versions are the same flow as data (normal form, positions aside). */
export function sameFlow(a: FlowDoc, b: FlowDoc): boolean {
  return sameJson(normalForm(a), normalForm(b));
}
