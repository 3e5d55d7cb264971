// The flow builder's graph model: edits, undo/redo, copy/paste, normal form, diff, dagre layout,
// and the round trip of every flow under examples/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { cwd } from "node:process";
import { copyNodes, pasteNodes } from "../src/builder/clipboard";
import { diffFlows, sameFlow } from "../src/builder/diff";
import {
  addNode,
  connect,
  connectionRefused,
  removeEdge,
  removeNodes,
  renameNode,
  setChannel,
  setField,
  setPositions,
} from "../src/builder/edit";
import { flowText, graphEdges, issueTarget, kindsByName, normalForm, parseFlow, sameJson } from "../src/builder/flow";
import type { FlowDoc } from "../src/builder/flow";
import { commit, redo, startHistory, undo } from "../src/builder/history";
import { layoutFlow, nodeHeight, nodeWidth, positionsOf } from "../src/builder/layout";
import { flowSchema } from "../src/builder/schema.generated";

const examples = join(cwd(), "examples");
const exampleFiles = readdirSync(examples).filter((name) => name.endsWith(".flow.json")).sort();
const example = (name: string): FlowDoc => parseFlow(readFileSync(join(examples, name), "utf8"));

test("the schema has every node kind the engine runs", () => {
  assert.deepEqual(
    flowSchema.nodeKinds.map((kind) => kind.kind),
    ["llm", "tool", "router", "llm_router", "human_input", "set", "end"],
  );
  assert.equal(kindsByName.get("router")?.choosesSuccessors, true);
  assert.ok(flowSchema.commonFields.some((field) => field.key === "retry"));
});

test("there are examples to round-trip", () => {
  assert.ok(exampleFiles.includes("support-agent.flow.json"));
  assert.ok(exampleFiles.length >= 2);
});

for (const name of exampleFiles) {
  test(`round trip of ${name}: import, lay out, export gives the same flow, positions aside`, () => {
    const text = readFileSync(join(examples, name), "utf8");
    const imported = parseFlow(text);
    const laidOut = setPositions(imported, layoutFlow(imported));
    assert.equal(Object.keys(laidOut.metadata?.positions ?? {}).length, imported.nodes.length);
    const exported = parseFlow(flowText(laidOut));
    const { metadata: _m, ...withoutLayout } = exported;
    void _m;
    assert.deepEqual(withoutLayout, JSON.parse(text));
    assert.ok(sameFlow(exported, JSON.parse(text) as FlowDoc));
  });

  test(`dagre lays out every node of ${name} without overlaps, edges pointing down`, () => {
    const doc = example(name);
    const positions = layoutFlow(doc);
    const ids = doc.nodes.map((node) => node.id);
    assert.deepEqual(Object.keys(positions).sort(), [...ids].sort());
    for (const a of ids) {
      for (const b of ids) {
        if (a >= b) continue;
        const p = positions[a]!;
        const q = positions[b]!;
        const apart = Math.abs(p.x - q.x) >= nodeWidth || Math.abs(p.y - q.y) >= nodeHeight;
        assert.ok(apart, `${a} and ${b} overlap`);
      }
    }
    // Acyclic examples: every edge goes to a lower row.
    for (const edge of graphEdges(doc)) assert.ok(positions[edge.to]!.y > positions[edge.from]!.y, edge.id);
  });
}

test("edges of every kind, with router conditions and option names as labels", () => {
  const doc = example("refund-approval.flow.json");
  const edges = graphEdges(doc).map((edge) => [edge.from, edge.to, edge.kind, edge.label ?? ""]);
  assert.deepEqual(edges, [
    ["classify", "general_answer", "option", "other"],
    ["classify", "fan_out", "option", "refund"],
    ["fan_out", "approve", "next", ""],
    ["fan_out", "lookup_order", "next", ""],
    ["approve", "decide", "next", ""],
    ["lookup_order", "decide", "next", ""],
    ["decide", "approved", "route", "state.approval == 'approve' and exists(state.order.id)"],
    ["decide", "rejected", "default", "default"],
  ]);
});

test("normal form: an unconditional entry of edges counts as next; conditional edges stay", () => {
  const written: FlowDoc = {
    entry: "a",
    nodes: [
      { id: "a", kind: "set", values: { answer: "x" }, next: "b" },
      { id: "b", kind: "set", values: { answer: "y" } },
      { id: "c", kind: "end" },
    ],
    edges: [
      { from: "a", to: "c" },
      { from: "b", to: "c", when: "state.answer == 'y'" },
      { from: "a", to: "b" },
    ],
    metadata: { positions: { a: { x: 1, y: 2 } } },
  };
  assert.deepEqual(normalForm(written), {
    entry: "a",
    nodes: [
      { id: "a", kind: "set", values: { answer: "x" }, next: ["b", "c"] },
      { id: "b", kind: "set", values: { answer: "y" } },
      { id: "c", kind: "end" },
    ],
    edges: [{ from: "b", to: "c", when: "state.answer == 'y'" }],
  });
  const asNext: FlowDoc = {
    entry: "a",
    nodes: [
      { id: "a", kind: "set", values: { answer: "x" }, next: ["b", "c"] },
      { id: "b", kind: "set", values: { answer: "y" } },
      { id: "c", kind: "end" },
    ],
    edges: [{ from: "b", to: "c", when: "state.answer == 'y'" }],
  };
  assert.ok(sameFlow(written, asNext));
  assert.ok(!sameFlow(written, { ...asNext, entry: "b" }));
});

test("add, connect, rename and remove nodes; references follow", () => {
  let doc: FlowDoc = { nodes: [] };
  doc = addNode(doc, "tool", { x: 0, y: 0 });
  doc = addNode(doc, "router", { x: 0, y: 100 });
  doc = addNode(doc, "llm", { x: 0, y: 200 });
  doc = addNode(doc, "end", { x: 0, y: 300 });
  assert.deepEqual(doc.nodes.map((node) => node.id), ["tool_1", "router_1", "llm_1", "end_1"]);
  assert.equal(doc.entry, "tool_1");
  doc = connect(doc, "tool_1", "router_1");
  doc = connect(doc, "router_1", "llm_1");
  doc = setField(doc, "router_1", "default", "end_1");
  doc = connect(doc, "llm_1", "end_1");
  doc = connect(doc, "tool_1", "end_1");
  assert.equal(connectionRefused(doc, "end_1", "tool_1"), "an end node ends its branch: it has no outgoing edges");
  assert.match(connectionRefused(doc, "tool_1", "router_1") ?? "", /already connected/);
  assert.equal(connect(doc, "end_1", "tool_1"), doc);
  assert.deepEqual(doc.nodes[0]!.next, ["router_1", "end_1"]);
  assert.deepEqual(doc.nodes[1]!.routes, [{ when: "", to: "llm_1" }]);
  doc = renameNode(doc, "end_1", "done");
  assert.deepEqual(doc.nodes[0]!.next, ["router_1", "done"]);
  assert.equal(doc.nodes[1]!.default, "done");
  assert.equal(doc.nodes[2]!.next, "done");
  assert.ok(doc.metadata?.positions?.done);
  assert.equal(renameNode(doc, "done", "llm_1"), doc, "a taken id is refused");
  doc = removeNodes(doc, ["done"]);
  assert.equal(doc.nodes[0]!.next, "router_1");
  assert.equal(doc.nodes[1]!.default, undefined);
  assert.equal(doc.nodes[2]!.next, undefined);
  assert.equal(doc.metadata?.positions?.done, undefined);
  doc = removeNodes(doc, ["tool_1"]);
  assert.equal(doc.entry, "router_1", "the entry moves to the first node left");
  doc = removeNodes(doc, ["llm_1"]);
  assert.deepEqual(doc.nodes[0]!.routes, [], "a route to a removed node goes with it");
});

test("an llm_router connection adds an option; removing an edge removes its route", () => {
  let doc = example("support-agent.flow.json");
  const route = graphEdges(doc).find((edge) => edge.kind === "route")!;
  doc = removeEdge(doc, route);
  assert.deepEqual(doc.nodes[1]!.routes, []);
  const next = graphEdges(doc).find((edge) => edge.from === "kb_lookup")!;
  doc = removeEdge(doc, next);
  assert.equal(doc.nodes[0]!.next, undefined);
  let chooser: FlowDoc = { nodes: [{ id: "pick", kind: "llm_router" }, { id: "x", kind: "end" }] };
  chooser = connect(chooser, "pick", "x");
  assert.deepEqual(chooser.nodes[0]!.options, [{ name: "x", description: "", to: "x" }]);
  const withEdges: FlowDoc = {
    nodes: [{ id: "a", kind: "set" }, { id: "b", kind: "end" }],
    edges: [{ from: "a", to: "b", when: "true" }],
  };
  assert.equal(removeEdge(withEdges, graphEdges(withEdges)[0]!).edges, undefined);
});

test("undo and redo walk the edits; a new edit clears redo", () => {
  let history = startHistory({ nodes: [] });
  history = commit(history, addNode(history.present, "llm", { x: 0, y: 0 }));
  history = commit(history, addNode(history.present, "end", { x: 0, y: 80 }));
  history = commit(history, connect(history.present, "llm_1", "end_1"));
  assert.equal(history.present.nodes[0]!.next, "end_1");
  history = undo(history);
  assert.equal(history.present.nodes[0]!.next, undefined);
  history = undo(history);
  assert.equal(history.present.nodes.length, 1);
  history = redo(history);
  assert.equal(history.present.nodes.length, 2);
  history = commit(history, setChannel(history.present, "kb", { type: "object" }));
  assert.equal(redo(history), history, "nothing to redo after a new edit");
  history = undo(undo(undo(history)));
  assert.deepEqual(history.present, { nodes: [] });
  assert.equal(undo(history), history);
  assert.equal(commit(history, history.present), history, "an unchanged document is not recorded");
});

test("typing in one field is one undo step", () => {
  let history = startHistory(addNode({ nodes: [] }, "llm", { x: 0, y: 0 }));
  for (const prompt of ["H", "Hi", "Hi {{input}}"]) {
    history = commit(history, setField(history.present, "llm_1", "prompt", prompt), "llm_1.prompt");
  }
  history = commit(history, setField(history.present, "llm_1", "system", "S"), "llm_1.system");
  assert.equal(history.past.length, 2);
  history = undo(history);
  assert.equal(history.present.nodes[0]!.prompt, "Hi {{input}}");
  assert.equal(history.present.nodes[0]!.system, undefined);
  history = undo(history);
  assert.equal(history.present.nodes[0]!.prompt, undefined);
});

test("copy and paste: fresh ids, the edges among the copied nodes, shifted positions", () => {
  const doc = setPositions(example("support-agent.flow.json"), layoutFlow(example("support-agent.flow.json")));
  const clip = copyNodes(doc, ["create_ticket", "notify_support"]);
  const { doc: pasted, ids } = pasteNodes(doc, clip);
  assert.deepEqual(ids, ["create_ticket_1", "notify_support_1"]);
  const copyOfTicket = pasted.nodes.find((node) => node.id === "create_ticket_1")!;
  assert.equal(copyOfTicket.next, "notify_support_1", "the edge between copies is kept");
  const copyOfNotify = pasted.nodes.find((node) => node.id === "notify_support_1")!;
  assert.equal(copyOfNotify.next, undefined, "the edge to a node not copied is dropped");
  assert.equal(copyOfNotify.on_error, "continue");
  const original = doc.metadata!.positions!.create_ticket!;
  assert.deepEqual(pasted.metadata!.positions!.create_ticket_1, { x: original.x + 40, y: original.y + 40 });
  const again = pasteNodes(pasted, clip).ids;
  assert.deepEqual(again, ["create_ticket_2", "notify_support_2"]);
});

test("diff of two versions: nodes added, removed, changed; edges; the JSON diff", () => {
  const before = example("support-agent.flow.json");
  let after = setField(before, "answer_from_kb", "prompt", "Question: {{input}}");
  after = removeNodes(after, ["notify_support"]);
  after = addNode(after, "end", { x: 0, y: 0 }, "bye");
  after = connect(after, "create_ticket", "bye");
  const diff = diffFlows(before, after);
  assert.deepEqual(diff.addedNodes, ["bye"]);
  assert.deepEqual(diff.removedNodes, ["notify_support"]);
  assert.deepEqual(diff.changedNodes, ["answer_from_kb", "create_ticket"]);
  assert.deepEqual(diff.addedEdges, ["create_ticket → bye"]);
  assert.deepEqual(diff.removedEdges.sort(), ["create_ticket → notify_support", "notify_support → reply_with_ticket"]);
  assert.equal(diff.entryChanged, false);
  assert.ok(diff.changes.some((change) => change.path === "nodes[2].prompt" && change.after === "Question: {{input}}"));
  const moved = setPositions(before, { kb_lookup: { x: 500, y: 500 } });
  const same = diffFlows(before, moved);
  assert.deepEqual([same.addedNodes, same.removedNodes, same.changedNodes, same.changes], [[], [], [], []]);
});

test("validator paths locate nodes, fields, edges and channels", () => {
  const doc = example("support-agent.flow.json");
  assert.deepEqual(issueTarget(doc, "$.nodes[1].routes[0].when"), {
    nodeId: "kb_helpful",
    field: "routes",
    edgeId: "n:1:routes:0",
  });
  assert.deepEqual(issueTarget(doc, "$.nodes[0].next"), { nodeId: "kb_lookup", field: "next", edgeId: "n:0:next" });
  assert.deepEqual(issueTarget(doc, "$.nodes[2].prompt"), { nodeId: "answer_from_kb", field: "prompt" });
  assert.deepEqual(issueTarget(doc, "$.edges[3].to"), { edgeId: "e:3" });
  assert.deepEqual(issueTarget(doc, "$.state.kb.type"), { channel: "kb" });
  assert.deepEqual(issueTarget(doc, "$.entry"), {});
  const ids = new Set(graphEdges(doc).map((edge) => edge.id));
  assert.ok(ids.has("n:1:routes:0") && ids.has("n:0:next") && ids.has("n:1:default"));
});

test("saved positions are used; nodes without one are placed below", () => {
  const doc = example("support-agent.flow.json");
  assert.deepEqual(positionsOf(doc), layoutFlow(doc));
  const partial = setPositions(doc, { kb_lookup: { x: 10, y: 20 } });
  const positions = positionsOf(partial);
  assert.deepEqual(positions.kb_lookup, { x: 10, y: 20 });
  assert.equal(Object.keys(positions).length, doc.nodes.length);
  assert.ok(sameJson(positionsOf(setPositions(doc, positions)), positions));
});

test("every canvas action has a key", async () => {
  const { actionFor } = await import("../src/builder/keyboard");
  const press = (key: string, mods: Partial<{ ctrlKey: boolean; shiftKey: boolean }> = {}) =>
    actionFor({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  assert.deepEqual(press("z", { ctrlKey: true }), { kind: "undo" });
  assert.deepEqual(press("Z", { ctrlKey: true, shiftKey: true }), { kind: "redo" });
  assert.deepEqual(press("y", { ctrlKey: true }), { kind: "redo" });
  assert.deepEqual(press("c", { ctrlKey: true }), { kind: "copy" });
  assert.deepEqual(press("v", { ctrlKey: true }), { kind: "paste" });
  assert.deepEqual(press("x", { ctrlKey: true }), { kind: "cut" });
  assert.deepEqual(press("a", { ctrlKey: true }), { kind: "selectAll" });
  assert.deepEqual(press("Delete"), { kind: "delete" });
  assert.deepEqual(press("ArrowDown"), { kind: "selectNext", step: 1 });
  assert.deepEqual(press("ArrowUp"), { kind: "selectNext", step: -1 });
  assert.deepEqual(press("ArrowLeft", { shiftKey: true }), { kind: "move", dx: -20, dy: 0 });
  assert.deepEqual(press("Enter"), { kind: "open" });
  assert.deepEqual(press("c"), { kind: "connect" });
  assert.deepEqual(press("+"), { kind: "zoom", factor: 1.25 });
  assert.deepEqual(press("-"), { kind: "zoom", factor: 0.8 });
  assert.deepEqual(press("0"), { kind: "fit" });
  assert.deepEqual(press("l"), { kind: "layout" });
  assert.deepEqual(press("1"), { kind: "add", nodeKind: "llm" });
  assert.deepEqual(press("7"), { kind: "add", nodeKind: "end" });
  assert.deepEqual(press("e"), { kind: "selectEdge", step: 1 });
  assert.deepEqual(press("E", { shiftKey: true }), { kind: "selectEdge", step: -1 });
  assert.deepEqual(actionFor({ key: "ArrowLeft", ctrlKey: false, metaKey: false, shiftKey: false, altKey: true }), { kind: "pan", dx: 80, dy: 0 });
  assert.equal(press("8"), undefined);
  assert.equal(press("q"), undefined);
});

test("the builder's routes", async () => {
  const { parseRoute } = await import("../src/app/route");
  assert.deepEqual(parseRoute("/agents"), { page: "agents" });
  assert.deepEqual(parseRoute("/agents/new"), { page: "agents", agentId: "new" });
  assert.deepEqual(parseRoute("/agents/a%201/"), { page: "agents", agentId: "a 1" });
});

test("templates are offered the channels written upstream first", async () => {
  const { channelsAt } = await import("../src/builder/flow");
  const doc = example("support-agent.flow.json");
  assert.deepEqual(channelsAt(doc, "answer_from_kb"), { upstream: ["kb"], others: ["answer", "ticket", "notification"] });
  assert.deepEqual(channelsAt(doc, "reply_with_ticket"), { upstream: ["kb", "ticket", "notification"], others: ["answer"] });
  assert.deepEqual(channelsAt(doc, "kb_lookup").upstream, []);
});

test("straight runs of nodes are laid out as chains", async () => {
  const { chainsOf } = await import("../src/builder/layout");
  assert.deepEqual(chainsOf(example("support-agent.flow.json")), [
    ["kb_lookup", "kb_helpful"],
    ["answer_from_kb"],
    ["create_ticket", "notify_support", "reply_with_ticket"],
    ["done"],
  ]);
  const loop: FlowDoc = { nodes: [{ id: "a", kind: "set", next: "b" }, { id: "b", kind: "set", next: "a" }] };
  assert.deepEqual(chainsOf(loop).flat().sort(), ["a", "b"]);
  const positions = layoutFlow(loop);
  assert.ok(positions.a && positions.b);
});
