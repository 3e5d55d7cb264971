// Automatic layout with dagre (Debian's node-dagre-layout): top to bottom, every node the same
// size; the result is the top-left corner of each node, as kept in `metadata.positions`.
import dagre from "dagre";
import { graphEdges } from "./flow";
import type { FlowDoc, Point } from "./flow";

/** The size of a node on the canvas. */
export const nodeWidth = 184;
export const nodeHeight = 56;

/** The vertical gap between ranks. */
const rankGap = 72;

/**
 * The document's nodes in chains: runs of nodes where each has one successor and that successor
 * one predecessor (a straight line). Every node is in exactly one chain (most chains are one node).
 */
export function chainsOf(doc: FlowDoc): string[][] {
  const ids = new Set(doc.nodes.map((node) => node.id));
  const successors = new Map<string, Set<string>>();
  const predecessors = new Map<string, Set<string>>();
  for (const id of ids) {
    successors.set(id, new Set());
    predecessors.set(id, new Set());
  }
  for (const edge of graphEdges(doc)) {
    if (ids.has(edge.from) && ids.has(edge.to) && edge.from !== edge.to) {
      successors.get(edge.from)!.add(edge.to);
      predecessors.get(edge.to)!.add(edge.from);
    }
  }
  const linked = (from: string): string | undefined => {
    const next = successors.get(from)!;
    if (next.size !== 1) return undefined;
    const [to] = next;
    return predecessors.get(to!)!.size === 1 ? to : undefined;
  };
  const placed = new Set<string>();
  const chains: string[][] = [];
  const follow = (head: string) => {
    const chain = [head];
    placed.add(head);
    for (let next = linked(head); next && !placed.has(next); next = linked(next)) {
      chain.push(next);
      placed.add(next);
    }
    chains.push(chain);
  };
  // A chain starts where a node is not the one successor of a node with one successor.
  for (const node of doc.nodes) {
    const before = predecessors.get(node.id)!;
    const [only] = before;
    if (!placed.has(node.id) && (before.size !== 1 || linked(only!) !== node.id)) follow(node.id);
  }
  for (const node of doc.nodes) if (!placed.has(node.id)) follow(node.id); // pure cycles
  return chains;
}

/**
 * Positions for every node of the document, laid out by dagre. A straight run of nodes (a chain)
 * is given to dagre as one tall node and spread back out, which keeps the layout the same shape
 * and dagre's crossing minimisation small (docs/PERFORMANCE.md, "Flow builder").
 */
export function layoutFlow(doc: FlowDoc): { [id: string]: Point } {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 48, ranksep: rankGap, edgesep: 24, marginx: 24, marginy: 24 });
  graph.setDefaultEdgeLabel(() => ({}));
  const chains = chainsOf(doc);
  const chainOf = new Map<string, string>();
  for (const chain of chains) {
    for (const id of chain) chainOf.set(id, chain[0]!);
    graph.setNode(chain[0]!, { width: nodeWidth, height: chain.length * nodeHeight + (chain.length - 1) * rankGap });
  }
  for (const edge of graphEdges(doc)) {
    const from = chainOf.get(edge.from);
    const to = chainOf.get(edge.to);
    if (from === undefined || to === undefined || (from === to && edge.from !== edge.to)) continue;
    graph.setEdge(from, to, { width: edge.label ? 80 : 0, height: edge.label ? 16 : 0 }, edge.id);
  }
  dagre.layout(graph);
  const positions: { [id: string]: Point } = {};
  for (const chain of chains) {
    const placed = graph.node(chain[0]!);
    const top = placed.y - placed.height / 2;
    chain.forEach((id, index) => {
      positions[id] = { x: Math.round(placed.x - nodeWidth / 2), y: Math.round(top + index * (nodeHeight + rankGap)) };
    });
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
