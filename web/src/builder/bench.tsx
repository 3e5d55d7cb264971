// The flow builder's benchmark page (Benchmarks/builder-run; docs/PERFORMANCE.md, "Flow builder"):
// a generated flow of 500 nodes (10 parallel branches of set nodes and routers between a start
// and a join; with `#mesh`, a mesh without straight runs) laid out by dagre and drawn by the canvas; then a script drags a node with pointer
// events, one move per animation frame, and times every frame with requestAnimationFrame.
// Not part of the app: esbuild bundles it on its own. Results go to `window.benchResult`.
import { createRef } from "react";
import { flushSync } from "react-dom";
import { createRoot } from "react-dom/client";
import "../styles/tokens.css";
import "../styles/app.css";
import "../styles/builder.css";
import { Canvas } from "./Canvas";
import type { CanvasHandle } from "./Canvas";
import type { FlowDoc, FlowNode } from "./flow";
import { layoutFlow } from "./layout";

/** A flow of `count` nodes: a start fanning out to 10 branches that meet at a join. */
export function generatedFlow(count: number): FlowDoc {
  const branches = 10;
  const inner = count - 2;
  const nodes: FlowNode[] = [{ id: "start", kind: "set", values: { x: 0 }, next: [] }];
  const starts: string[] = [];
  for (let branch = 0; branch < branches; branch++) {
    const length = Math.floor(inner / branches) + (branch < inner % branches ? 1 : 0);
    const ids = Array.from({ length }, (_, index) => `b${branch}_${index}`);
    starts.push(ids[0]!);
    ids.forEach((id, index) => {
      const next = ids[index + 1] ?? "join";
      const after = ids[index + 2] ?? "join";
      if (index % 10 === 5 && next !== after) {
        nodes.push({ id, kind: "router", routes: [{ when: `state.x > ${index}`, to: next }], default: after });
      } else {
        nodes.push({ id, kind: "set", values: { x: index }, next });
      }
    });
  }
  nodes[0]!.next = starts;
  nodes.push({ id: "join", kind: "end", answer: "{{state.x}}" });
  return { entry: "start", state: { x: { type: "number" } }, nodes };
}

/** A flow of `count` nodes without straight runs: node i goes to i+1 and i+10 (a mesh; the worst case for layout). */
export function meshFlow(count: number): FlowDoc {
  const nodes: FlowNode[] = Array.from({ length: count }, (_, index) => {
    const next = [index + 1, index + 10].filter((target) => target < count).map((target) => `n${target}`);
    return next.length > 0 ? { id: `n${index}`, kind: "set", values: { x: index }, next } : { id: `n${index}`, kind: "end" };
  });
  return { entry: "n0", state: { x: { type: "number" } }, nodes };
}

declare global {
  interface Window {
    benchResult?: { nodes: number; edges: number; layoutMs: number; drawMs: number; frames: number; p50FrameMs: number; p95FrameMs: number; maxFrameMs: number };
  }
}

const frame = () => new Promise<number>((resolve) => requestAnimationFrame(resolve));

async function run() {
  const mesh = window.location.hash === "#mesh";
  const doc = mesh ? meshFlow(500) : generatedFlow(500);
  const dragged = mesh ? "n250" : "b3_20";
  const host = document.getElementById("root")!;
  const root = createRoot(host);
  const handle = createRef<CanvasHandle>();
  const started = performance.now();
  const positions = layoutFlow(doc);
  const laidOut = performance.now();
  const noop = () => undefined;
  flushSync(() =>
    root.render(
      <div className="builder__canvas bench">
        <Canvas
          ref={handle}
          doc={doc}
          positions={positions}
          selected={new Set()}
          marks={new Map()}
          edgeIssues={new Set()}
          readOnly={false}
          onSelect={noop}
          onSelectEdge={noop}
          onMove={noop}
          onConnect={noop}
          onOpen={noop}
        />
      </div>,
    ),
  );
  await frame();
  const drawn = performance.now();
  handle.current?.reveal(dragged);
  await frame();
  await frame();
  const node = document.querySelector(`[data-testid='node-${dragged}'] .node__box`)!;
  const box = node.getBoundingClientRect();
  const x = box.left + box.width / 2;
  const y = box.top + box.height / 2;
  const pointer = (type: string, dx: number) =>
    node.dispatchEvent(new PointerEvent(type, { bubbles: true, clientX: x + dx, clientY: y + dx / 2, pointerId: 7, button: 0, buttons: 1, isPrimary: true }));
  pointer("pointerdown", 0);
  const times: number[] = [];
  let last = await frame();
  for (let step = 1; step <= 180; step++) {
    pointer("pointermove", step * 2);
    const now = await frame();
    times.push(now - last);
    last = now;
  }
  pointer("pointerup", 360);
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  window.benchResult = {
    nodes: doc.nodes.length,
    edges: document.querySelectorAll(".edge").length,
    layoutMs: laidOut - started,
    drawMs: drawn - laidOut,
    frames: times.length,
    p50FrameMs: at(0.5),
    p95FrameMs: at(0.95),
    maxFrameMs: sorted[sorted.length - 1]!,
  };
  document.title = "done";
}

void run();
