// The flow document as the builder holds it (docs/FLOWS.md, "Document"), the edges drawn from it,
// and its normal form. The builder keeps the document itself (every node object as written, with
// keys it does not know), so importing and exporting an unedited flow gives it back unchanged.
import { flowSchema } from "./schema.generated";
import type { NodeKindSchema } from "./schemaTypes";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** A node: `id`, `kind` and the kind's fields. */
export interface FlowNode {
  id: string;
  kind: string;
  [key: string]: Json | undefined;
}

/** A top-level edge: `{from, to, when?}`. */
export interface FlowEdge {
  from: string;
  to: string;
  when?: string;
  [key: string]: Json | undefined;
}

/** A node's place on the canvas (its top-left corner). */
export interface Point {
  x: number;
  y: number;
}

/** The flow document. `metadata.positions` holds the canvas positions (docs/FLOWS.md). */
export interface FlowDoc {
  name?: string;
  description?: string;
  entry?: string;
  state?: { [channel: string]: JsonObject };
  nodes: FlowNode[];
  edges?: FlowEdge[];
  metadata?: { positions?: { [id: string]: Point }; [key: string]: unknown };
  [key: string]: Json | undefined | FlowNode[] | FlowEdge[] | object;
}

/** How an edge is written in the document. */
export type EdgeKind = "next" | "edge" | "route" | "default" | "option";

/** An edge as drawn: where it goes and where the document defines it. */
export interface GraphEdge {
  /** Stable within one document: where it is defined (`n:3:next:1`, `e:2`, `n:1:routes:0`). */
  id: string;
  from: string;
  to: string;
  kind: EdgeKind;
  /** A condition (`when` of an edge or route), an option's name, or "default". */
  label?: string;
  /** The JSON path of its definition, as the validator names it (`$.nodes[1].routes[0]`). */
  path: string;
}

/** The kinds of the engine's schema, by name. */
export const kindsByName: ReadonlyMap<string, NodeKindSchema> = new Map(
  flowSchema.nodeKinds.map((kind) => [kind.kind, kind]),
);

/** Whether nodes of `kind` pick their successors themselves (router, llm_router, end). */
export function choosesSuccessors(kind: string): boolean {
  return kindsByName.get(kind)?.choosesSuccessors ?? false;
}

/** A node's `next` as a list. */
export function nextList(node: FlowNode): string[] {
  const next = node.next;
  if (typeof next === "string") return [next];
  if (Array.isArray(next)) return next.filter((item): item is string => typeof item === "string");
  return [];
}

function objects(value: Json | undefined): JsonObject[] {
  return Array.isArray(value)
    ? value.filter((item): item is JsonObject => typeof item === "object" && item !== null && !Array.isArray(item))
    : [];
}

/** Every edge of the document: `next`, `edges`, router routes and defaults, llm_router options. */
export function graphEdges(doc: FlowDoc): GraphEdge[] {
  const result: GraphEdge[] = [];
  doc.nodes.forEach((node, index) => {
    const at = `$.nodes[${index}]`;
    if (typeof node.next === "string") {
      result.push({ id: `n:${index}:next`, from: node.id, to: node.next, kind: "next", path: `${at}.next` });
    } else if (Array.isArray(node.next)) {
      node.next.forEach((to, position) => {
        if (typeof to === "string") {
          result.push({
            id: `n:${index}:next:${position}`,
            from: node.id,
            to,
            kind: "next",
            path: `${at}.next[${position}]`,
          });
        }
      });
    }
    if (node.kind === "router") {
      objects(node.routes).forEach((route, position) => {
        if (typeof route.to === "string") {
          result.push({
            id: `n:${index}:routes:${position}`,
            from: node.id,
            to: route.to,
            kind: "route",
            label: typeof route.when === "string" ? route.when : "",
            path: `${at}.routes[${position}]`,
          });
        }
      });
    }
    if (node.kind === "llm_router") {
      objects(node.options).forEach((option, position) => {
        if (typeof option.to === "string") {
          result.push({
            id: `n:${index}:options:${position}`,
            from: node.id,
            to: option.to,
            kind: "option",
            label: typeof option.name === "string" ? option.name : "",
            path: `${at}.options[${position}]`,
          });
        }
      });
    }
    if ((node.kind === "router" || node.kind === "llm_router") && typeof node.default === "string") {
      result.push({
        id: `n:${index}:default`,
        from: node.id,
        to: node.default,
        kind: "default",
        label: "default",
        path: `${at}.default`,
      });
    }
  });
  (doc.edges ?? []).forEach((edge, index) => {
    const graphEdge: GraphEdge = { id: `e:${index}`, from: edge.from, to: edge.to, kind: "edge", path: `$.edges[${index}]` };
    if (typeof edge.when === "string") graphEdge.label = edge.when;
    result.push(graphEdge);
  });
  return result;
}

/**
 * The normal form of a flow, to compare two flows as data (docs/FLOWS.md, "Normal form"):
 * `metadata` dropped; every unconditional edge, whether written as a node's `next` or as an entry
 * of `edges` without `when`, moved to its node's `next` (a string for one target, an array for
 * several, in order: `next` first, then `edges`; a target listed twice kept once); `edges` keeps
 * only the conditional edges, in order, and is left out when none remain; an empty `next` is
 * left out. Nothing else changes.
 */
export function normalForm(doc: FlowDoc): FlowDoc {
  const { metadata: _metadata, edges, nodes, ...rest } = doc;
  void _metadata;
  const extra = new Map<string, string[]>();
  const conditional: FlowEdge[] = [];
  for (const edge of edges ?? []) {
    if (typeof edge.when === "string") {
      conditional.push(edge);
    } else {
      extra.set(edge.from, [...(extra.get(edge.from) ?? []), edge.to]);
    }
  }
  const normalNodes = nodes.map((node) => {
    const targets = [...new Set([...nextList(node), ...(extra.get(node.id) ?? [])])];
    const { next: _next, ...fields } = node;
    void _next;
    const result: FlowNode = { ...fields };
    if (targets.length === 1) result.next = targets[0]!;
    else if (targets.length > 1) result.next = targets;
    return result;
  });
  const result: FlowDoc = { ...rest, nodes: normalNodes };
  if (conditional.length > 0) result.edges = conditional;
  return result;
}

/** JSON values compared as data (object keys in any order). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  }
  const left = Object.entries(a as Record<string, unknown>).filter(([, value]) => value !== undefined);
  const right = Object.entries(b as Record<string, unknown>).filter(([, value]) => value !== undefined);
  if (left.length !== right.length) return false;
  const other = b as Record<string, unknown>;
  return left.every(([key, value]) => sameJson(value, other[key]));
}

/** Parses flow JSON text into a document; throws a readable Error when it is not one. */
export function parseFlow(text: string): FlowDoc {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("A flow is a JSON object");
  }
  const doc = value as FlowDoc;
  if (!Array.isArray(doc.nodes)) throw new Error("A flow needs a nodes array");
  for (const node of doc.nodes) {
    if (typeof node !== "object" || node === null || typeof node.id !== "string" || typeof node.kind !== "string") {
      throw new Error("Every node needs a string id and kind");
    }
  }
  return doc;
}

/** The document as JSON text (two-space indentation). */
export function flowText(doc: FlowDoc): string {
  return JSON.stringify(doc, null, 2);
}

/** The channels a flow can read and write: the built-in ones and those declared under `state`. */
export function channelNames(doc: FlowDoc): string[] {
  const declared = Object.keys(doc.state ?? {});
  return [...new Set([...flowSchema.builtinChannels, ...declared])];
}

/** What a validator issue's JSON path points at: a node (and field), an edge, or the flow. */
export interface IssueTarget {
  nodeId?: string;
  edgeId?: string;
  /** The node's field, e.g. `prompt`, `routes`. */
  field?: string;
  channel?: string;
}

/** Locates a validator issue's path (`$.nodes[3].routes[0].when`) in the document. */
export function issueTarget(doc: FlowDoc, path: string): IssueTarget {
  const node = /^\$\.nodes\[(\d+)\](?:\.([A-Za-z_]+))?(?:\[(\d+)\])?/.exec(path);
  if (node) {
    const index = Number(node[1]);
    const target: IssueTarget = {};
    const found = doc.nodes[index];
    if (found) target.nodeId = found.id;
    if (node[2]) target.field = node[2];
    if (node[2] === "routes" || node[2] === "options") {
      if (node[3] !== undefined) target.edgeId = `n:${index}:${node[2]}:${node[3]}`;
    } else if (node[2] === "next") {
      target.edgeId = node[3] !== undefined ? `n:${index}:next:${node[3]}` : `n:${index}:next`;
    } else if (node[2] === "default") {
      target.edgeId = `n:${index}:default`;
    }
    return target;
  }
  const edge = /^\$\.edges\[(\d+)\]/.exec(path);
  if (edge) return { edgeId: `e:${edge[1]}` };
  const channel = /^\$\.state\.([^.[]+)/.exec(path);
  if (channel) return { channel: channel[1]! };
  const position = /^\$\.metadata\.positions\.(.+)$/.exec(path);
  if (position) return { nodeId: position[1]! };
  return {};
}

/** The channels a node writes: its `output`, a set node's `values` keys. */
export function channelsWritten(node: FlowNode): string[] {
  const written: string[] = [];
  if (typeof node.output === "string" && node.output) written.push(node.output);
  if (node.kind === "set" && typeof node.values === "object" && node.values !== null && !Array.isArray(node.values)) {
    written.push(...Object.keys(node.values));
  }
  return written;
}

/**
 * The channels a template of node `id` may read, the most useful first: `input`, then the channels
 * written by the nodes that can run before it (upstream along any edge), then the other declared
 * ones (they hold their defaults).
 */
export function channelsAt(doc: FlowDoc, id: string): { upstream: string[]; others: string[] } {
  const into = new Map<string, string[]>();
  for (const edge of graphEdges(doc)) into.set(edge.to, [...(into.get(edge.to) ?? []), edge.from]);
  const seen = new Set<string>();
  const queue = [...(into.get(id) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(into.get(next) ?? []));
  }
  const upstream = new Set<string>();
  for (const node of doc.nodes) {
    if (seen.has(node.id)) for (const channel of channelsWritten(node)) upstream.add(channel);
  }
  const all = channelNames(doc).filter((name) => name !== "input");
  return {
    upstream: all.filter((name) => upstream.has(name)),
    others: all.filter((name) => !upstream.has(name)),
  };
}
