// Copy and paste of nodes: the copied nodes with the edges among them (references to nodes not
// copied are dropped), pasted under fresh ids, shifted so they do not cover the originals.
import { freshId, setPositions } from "./edit";
import type { FlowDoc, FlowEdge, FlowNode, Json, Point } from "./flow";

/** What copy keeps: the nodes, the top-level edges among them, their positions. */
export interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
  positions: { [id: string]: Point };
}

/** Copies the nodes `ids` (in document order). */
export function copyNodes(doc: FlowDoc, ids: Iterable<string>): Clip {
  const chosen = new Set(ids);
  const nodes = doc.nodes.filter((node) => chosen.has(node.id));
  const edges = (doc.edges ?? []).filter((edge) => chosen.has(edge.from) && chosen.has(edge.to));
  const positions: { [id: string]: Point } = {};
  for (const node of nodes) {
    const point = doc.metadata?.positions?.[node.id];
    if (point) positions[node.id] = point;
  }
  return { nodes: structuredCloneJson(nodes), edges: structuredCloneJson(edges), positions };
}

function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Pastes a clip under fresh ids (`<id>_1`, …), `offset` away from the copied positions; returns the new ids too. */
export function pasteNodes(doc: FlowDoc, clip: Clip, offset: Point = { x: 40, y: 40 }): { doc: FlowDoc; ids: string[] } {
  const renamed = new Map<string, string>();
  let scratch: FlowDoc = doc;
  for (const node of clip.nodes) {
    const id = freshId(scratch, node.id.replace(/_\d+$/, ""));
    renamed.set(node.id, id);
    scratch = { ...scratch, nodes: [...scratch.nodes, { id, kind: node.kind }] };
  }
  const map = (id: Json | undefined): Json | undefined => (typeof id === "string" ? renamed.get(id) : undefined);
  const nodes = clip.nodes.map((node) => remap(node, renamed.get(node.id)!, map));
  const edges = clip.edges.map((edge) => ({ ...edge, from: renamed.get(edge.from)!, to: renamed.get(edge.to)! }));
  let result: FlowDoc = { ...doc, nodes: [...doc.nodes, ...nodes] };
  if (edges.length > 0) result.edges = [...(doc.edges ?? []), ...edges];
  if (!doc.entry && nodes[0]) result.entry = nodes[0].id;
  const positions: { [id: string]: Point } = {};
  clip.nodes.forEach((node, index) => {
    const point = clip.positions[node.id] ?? { x: index * 40, y: index * 40 };
    positions[renamed.get(node.id)!] = { x: point.x + offset.x, y: point.y + offset.y };
  });
  result = setPositions(result, positions);
  return { doc: result, ids: nodes.map((node) => node.id) };
}

function remap(node: FlowNode, id: string, map: (id: Json | undefined) => Json | undefined): FlowNode {
  const result: FlowNode = { ...node, id };
  if (typeof node.next === "string" || Array.isArray(node.next)) {
    const next = (typeof node.next === "string" ? [node.next] : node.next).map(map).filter((x): x is Json => x !== undefined);
    if (next.length === 0) delete result.next;
    else result.next = next.length === 1 ? next[0]! : next;
  }
  if (Array.isArray(node.wait_for)) {
    const waitFor = node.wait_for.map(map).filter((x): x is Json => x !== undefined);
    if (waitFor.length === 0) delete result.wait_for;
    else result.wait_for = waitFor;
  }
  for (const key of ["routes", "options"]) {
    const list = node[key];
    if (Array.isArray(list)) {
      result[key] = list.map((item) => {
        if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
        const to = map(item.to);
        const copy = { ...item };
        if (to === undefined) delete copy.to;
        else copy.to = to;
        return copy;
      });
    }
  }
  if (typeof node.default === "string" && (node.kind === "router" || node.kind === "llm_router")) {
    const fallback = map(node.default);
    if (fallback === undefined) delete result.default;
    else result.default = fallback;
  }
  return result;
}
