// Automatic layout with dagre (Debian's node-dagre-layout): top to bottom, every node the same
// size; the result is the top-left corner of each node, as kept in `metadata.positions`.
import dagre from "dagre";
import { graphEdges } from "./flow";
import type { FlowDoc, Point } from "./flow";

/** The size of a node on the canvas. */
export const nodeWidth = 184;
export const nodeHeight = 56;

/** Positions for every node of the document, laid out by dagre. */
export function layoutFlow(doc: FlowDoc): { [id: string]: Point } {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 48, ranksep: 72, edgesep: 24, marginx: 24, marginy: 24 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(doc.nodes.map((node) => node.id));
  for (const node of doc.nodes) graph.setNode(node.id, { width: nodeWidth, height: nodeHeight });
  for (const edge of graphEdges(doc)) {
    if (ids.has(edge.from) && ids.has(edge.to)) {
      graph.setEdge(edge.from, edge.to, { width: edge.label ? 80 : 0, height: edge.label ? 16 : 0 }, edge.id);
    }
  }
  dagre.layout(graph);
  const positions: { [id: string]: Point } = {};
  for (const node of doc.nodes) {
    const placed = graph.node(node.id);
    positions[node.id] = { x: Math.round(placed.x - nodeWidth / 2), y: Math.round(placed.y - nodeHeight / 2) };
  }
  return positions;
}

/** The document's saved positions, with any node that has none laid out (all by dagre when none has one). */
export function positionsOf(doc: FlowDoc): { [id: string]: Point } {
  const saved = doc.metadata?.positions ?? {};
  if (doc.nodes.every((node) => saved[node.id])) return saved;
  if (doc.nodes.every((node) => !saved[node.id])) return layoutFlow(doc);
  const result: { [id: string]: Point } = { ...saved };
  let bottom = Math.max(0, ...Object.values(saved).map((point) => point.y + nodeHeight));
  for (const node of doc.nodes) {
    if (!result[node.id]) {
      bottom += 24;
      result[node.id] = { x: 24, y: bottom };
      bottom += nodeHeight;
    }
  }
  return result;
}
