// The builder's edits of a flow document: pure functions from a document to a new one (the old
// one is never changed, so undo keeps it as it was). Unconditional connections are written as the
// node's `next`, the normal form (flow.ts).
import { choosesSuccessors, graphEdges, nextList } from "./flow";
import type { FlowDoc, FlowNode, GraphEdge, Json, JsonObject, Point } from "./flow";

/** A fresh id for a node of `kind`: `kind_1`, `kind_2`, … (the first one free). */
export function freshId(doc: FlowDoc, base: string): string {
  const taken = new Set(doc.nodes.map((node) => node.id));
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!taken.has(id)) return id;
  }
}

/** Sets the canvas positions of some nodes (others keep theirs). */
export function setPositions(doc: FlowDoc, positions: { [id: string]: Point }): FlowDoc {
  const metadata = { ...(doc.metadata ?? {}) };
  metadata.positions = { ...(metadata.positions ?? {}), ...roundAll(positions) };
  return { ...doc, metadata };
}

function roundAll(positions: { [id: string]: Point }): { [id: string]: Point } {
  const result: { [id: string]: Point } = {};
  for (const [id, point] of Object.entries(positions)) result[id] = { x: Math.round(point.x), y: Math.round(point.y) };
  return result;
}

/** Adds a node of `kind` (id: `kind_N`) at `position`; the first node becomes the entry. */
export function addNode(doc: FlowDoc, kind: string, position: Point, id = freshId(doc, kind)): FlowDoc {
  const node: FlowNode = { id, kind };
  const next: FlowDoc = { ...doc, nodes: [...doc.nodes, node] };
  if (!doc.entry || !doc.nodes.some((other) => other.id === doc.entry)) next.entry = id;
  return setPositions(next, { [id]: position });
}

/** Replaces node `id` with `node` (which may carry another id: references follow, see renameNode). */
export function updateNode(doc: FlowDoc, id: string, node: FlowNode): FlowDoc {
  let result: FlowDoc = { ...doc, nodes: doc.nodes.map((other) => (other.id === id ? node : other)) };
  if (node.id !== id) result = renameReferences(result, id, node.id);
  return result;
}

/** Sets one field of a node; `undefined` removes it. */
export function setField(doc: FlowDoc, id: string, key: string, value: Json | undefined): FlowDoc {
  const node = doc.nodes.find((other) => other.id === id);
  if (!node) return doc;
  const updated: FlowNode = { ...node };
  if (value === undefined) delete updated[key];
  else updated[key] = value;
  return updateNode(doc, id, updated);
}

/** Renames a node, updating every reference: entry, next, edges, routes, options, defaults, wait_for, position. */
export function renameNode(doc: FlowDoc, from: string, to: string): FlowDoc {
  if (from === to || to === "" || doc.nodes.some((node) => node.id === to)) return doc;
  const node = doc.nodes.find((other) => other.id === from);
  if (!node) return doc;
  return updateNode(doc, from, { ...node, id: to });
}

function renameReferences(doc: FlowDoc, from: string, to: string): FlowDoc {
  const rename = (id: Json | undefined) => (id === from ? to : id);
  const nodes = doc.nodes.map((node) => mapReferences(node, rename));
  const result: FlowDoc = { ...doc, nodes };
  if (doc.entry === from) result.entry = to;
  if (doc.edges) result.edges = doc.edges.map((edge) => ({ ...edge, from: edge.from === from ? to : edge.from, to: edge.to === from ? to : edge.to }));
  const positions = doc.metadata?.positions;
  if (positions && positions[from]) {
    const { [from]: point, ...others } = positions;
    result.metadata = { ...doc.metadata, positions: { ...others, [to]: point! } };
  }
  return result;
}

/** A node with every id it names passed through `map` (undefined: the reference is dropped). */
function mapReferences(node: FlowNode, map: (id: Json | undefined) => Json | undefined): FlowNode {
  const result: FlowNode = { ...node };
  if (typeof node.next === "string") {
    const next = map(node.next);
    if (next === undefined) delete result.next;
    else result.next = next;
  } else if (Array.isArray(node.next)) {
    const next = node.next.map(map).filter((id): id is Json => id !== undefined);
    if (next.length === 0) delete result.next;
    else result.next = next.length === 1 ? next[0]! : next;
  }
  if (Array.isArray(node.wait_for)) {
    const waitFor = node.wait_for.map(map).filter((id): id is Json => id !== undefined);
    if (waitFor.length === 0) delete result.wait_for;
    else result.wait_for = waitFor;
  }
  for (const key of ["routes", "options"]) {
    const list = node[key];
    if (Array.isArray(list)) {
      result[key] = list
        .map((item): Json | undefined => {
          if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
          const to = map(item.to);
          return to === undefined ? undefined : { ...item, to };
        })
        .filter((item): item is Json => item !== undefined);
    }
  }
  if (typeof node.default === "string" && (node.kind === "router" || node.kind === "llm_router")) {
    const fallback = map(node.default);
    if (fallback === undefined) delete result.default;
    else result.default = fallback;
  }
  return result;
}

/** Removes nodes and every reference to them; the entry moves to the first node left. */
export function removeNodes(doc: FlowDoc, ids: Iterable<string>): FlowDoc {
  const gone = new Set(ids);
  if (gone.size === 0) return doc;
  const drop = (id: Json | undefined) => (typeof id === "string" && gone.has(id) ? undefined : id);
  const nodes = doc.nodes.filter((node) => !gone.has(node.id)).map((node) => mapReferences(node, drop));
  const result: FlowDoc = { ...doc, nodes };
  if (doc.edges) {
    const edges = doc.edges.filter((edge) => !gone.has(edge.from) && !gone.has(edge.to));
    if (edges.length > 0) result.edges = edges;
    else delete result.edges;
  }
  if (doc.entry !== undefined && gone.has(doc.entry)) {
    if (nodes[0]) result.entry = nodes[0].id;
    else delete result.entry;
  }
  const positions = doc.metadata?.positions;
  if (positions) {
    const kept = Object.fromEntries(Object.entries(positions).filter(([id]) => !gone.has(id)));
    result.metadata = { ...doc.metadata, positions: kept };
  }
  return result;
}

/** Why a connection cannot be made, or undefined when it can. */
export function connectionRefused(doc: FlowDoc, from: string, to: string): string | undefined {
  const source = doc.nodes.find((node) => node.id === from);
  if (!source || !doc.nodes.some((node) => node.id === to)) return "no such node";
  if (source.kind === "end") return "an end node ends its branch: it has no outgoing edges";
  if (graphEdges(doc).some((edge) => edge.from === from && edge.to === to && edge.kind !== "default")) {
    return `${from} is already connected to ${to}`;
  }
  return undefined;
}

/**
 * Connects `from` to `to`: a plain node gets `to` in its `next`; a router gets a route
 * `{when: "", to}` (its condition is then written in the editor); an llm_router an option named
 * after the target. A refused connection (see connectionRefused) leaves the document as it is.
 */
export function connect(doc: FlowDoc, from: string, to: string): FlowDoc {
  if (connectionRefused(doc, from, to)) return doc;
  const source = doc.nodes.find((node) => node.id === from)!;
  const node: FlowNode = { ...source };
  if (source.kind === "router") {
    node.routes = [...listOf(source.routes), { when: "", to }];
  } else if (source.kind === "llm_router") {
    node.options = [...listOf(source.options), { name: to, description: "", to }];
  } else if (!choosesSuccessors(source.kind)) {
    const next = [...nextList(source), to];
    node.next = next.length === 1 ? next[0]! : next;
  }
  return updateNode(doc, from, node);
}

function listOf(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** Removes one edge where the document defines it (a route or option is removed with its condition). */
export function removeEdge(doc: FlowDoc, edge: GraphEdge): FlowDoc {
  const match = /^n:(\d+):(next|routes|options|default)(?::(\d+))?$/.exec(edge.id);
  if (match) {
    const node = doc.nodes[Number(match[1])];
    if (!node) return doc;
    const updated: FlowNode = { ...node };
    const key = match[2]!;
    if (key === "default") {
      delete updated.default;
    } else if (key === "next") {
      const next = nextList(node).filter((_, index) => match[3] !== undefined && index !== Number(match[3]));
      if (next.length === 0) delete updated.next;
      else updated.next = next.length === 1 ? next[0]! : next;
    } else {
      updated[key] = listOf(node[key]).filter((_, index) => index !== Number(match[3]));
    }
    return updateNode(doc, node.id, updated);
  }
  const top = /^e:(\d+)$/.exec(edge.id);
  if (top && doc.edges) {
    const edges = doc.edges.filter((_, index) => index !== Number(top[1]));
    const result: FlowDoc = { ...doc, edges };
    if (edges.length === 0) delete result.edges;
    return result;
  }
  return doc;
}

/** Declares (or replaces) a state channel; `undefined` removes the declaration. */
export function setChannel(doc: FlowDoc, name: string, declaration: JsonObject | undefined): FlowDoc {
  const state = { ...(doc.state ?? {}) };
  if (declaration === undefined) delete state[name];
  else state[name] = declaration;
  return { ...doc, state };
}

/** Sets the entry node. */
export function setEntry(doc: FlowDoc, id: string): FlowDoc {
  return { ...doc, entry: id };
}
