// The flow on an SVG canvas: nodes at their positions, edges as curves with their conditions,
// pan (drag the background), zoom (wheel, or the page's buttons and keys), select (click;
// Shift/Ctrl+click adds; Shift+drag on the background selects a box), drag the selected nodes,
// connect by dragging from a node's port (the dot at its foot) onto another node. Nodes and edges
// are memoised so a drag re-renders only what moves (the 500-node benchmark, docs/PERFORMANCE.md).
import { forwardRef, memo, useCallback, useImperativeHandle, useMemo, useRef, useState } from "react";
import type { PointerEvent as ReactPointerEvent, WheelEvent as ReactWheelEvent } from "react";
import type { FlowDoc, GraphEdge, Point } from "./flow";
import { graphEdges, nextList } from "./flow";
import { nodeHeight, nodeWidth } from "./layout";

/** How a node is marked: by validation, by a test run, by a version diff. */
export interface NodeMarks {
  issues?: { errors: number; warnings: number };
  run?: "running" | "done" | "failed" | "waiting";
  diff?: "added" | "changed" | "removed";
}

/** What the page can ask of the canvas. */
export interface CanvasHandle {
  fit(): void;
  zoomBy(factor: number): void;
  /** Moves the view by pixels. */
  panBy(dx: number, dy: number): void;
  /** Scrolls a node into the middle of the view. */
  reveal(id: string): void;
  /** The middle of the visible area, in flow coordinates (where a new node goes). */
  center(): Point;
}

interface CanvasProps {
  doc: FlowDoc;
  positions: { [id: string]: Point };
  selected: ReadonlySet<string>;
  selectedEdge?: string | undefined;
  marks: ReadonlyMap<string, NodeMarks>;
  edgeIssues: ReadonlySet<string>;
  edgeDiff?: ReadonlyMap<string, "added"> | undefined;
  /** Nodes of an older version drawn as removed (the version diff). */
  ghosts?: { id: string; kind: string; position: Point }[] | undefined;
  readOnly: boolean;
  onSelect(ids: string[], additive: boolean): void;
  onSelectEdge(id: string): void;
  onMove(moved: { [id: string]: Point }): void;
  onConnect(from: string, to: string): void;
  onOpen(id: string): void;
}

interface View {
  x: number;
  y: number;
  k: number;
}

type Gesture =
  | { kind: "pan"; start: Point; view: View }
  | { kind: "drag"; start: Point; ids: string[]; moved: boolean }
  | { kind: "connect"; from: string; start: Point }
  | { kind: "box"; start: Point };

const minZoom = 0.1;
const maxZoom = 3;

export const Canvas = forwardRef<CanvasHandle, CanvasProps>(function Canvas(props, ref) {
  const { doc, positions, selected, marks, readOnly } = props;
  const svg = useRef<SVGSVGElement>(null);
  const [view, setView] = useState<View>({ x: 0, y: 0, k: 1 });
  const gesture = useRef<Gesture>();
  const lastPress = useRef<{ id: string; time: number }>();
  const [offset, setOffset] = useState<Point>({ x: 0, y: 0 });
  const [dragging, setDragging] = useState<ReadonlySet<string>>(new Set());
  const [wire, setWire] = useState<{ from: string; to: Point }>();
  const [box, setBox] = useState<{ a: Point; b: Point }>();

  const edges = useMemo(() => graphEdges(doc), [doc]);
  const fanIn = useMemo(() => {
    const counts = new Map<string, number>();
    for (const edge of edges) counts.set(edge.to, (counts.get(edge.to) ?? 0) + 1);
    return counts;
  }, [edges]);

  const toFlow = useCallback(
    (clientX: number, clientY: number): Point => {
      const rect = svg.current?.getBoundingClientRect();
      return { x: (clientX - (rect?.left ?? 0) - view.x) / view.k, y: (clientY - (rect?.top ?? 0) - view.y) / view.k };
    },
    [view],
  );

  const fit = useCallback(() => {
    const rect = svg.current?.getBoundingClientRect();
    const points = Object.values(positions);
    if (!rect || points.length === 0) return;
    const minX = Math.min(...points.map((p) => p.x)) - 32;
    const minY = Math.min(...points.map((p) => p.y)) - 32;
    const maxX = Math.max(...points.map((p) => p.x + nodeWidth)) + 32;
    const maxY = Math.max(...points.map((p) => p.y + nodeHeight)) + 32;
    const k = Math.min(maxZoom, Math.max(minZoom, Math.min(rect.width / (maxX - minX), rect.height / (maxY - minY), 1.25)));
    setView({ k, x: (rect.width - (maxX - minX) * k) / 2 - minX * k, y: (rect.height - (maxY - minY) * k) / 2 - minY * k });
  }, [positions]);

  useImperativeHandle(
    ref,
    () => ({
      fit,
      zoomBy(factor: number) {
        const rect = svg.current?.getBoundingClientRect();
        const cx = (rect?.width ?? 0) / 2;
        const cy = (rect?.height ?? 0) / 2;
        setView((v) => zoomAt(v, cx, cy, factor));
      },
      panBy(dx: number, dy: number) {
        setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
      },
      reveal(id: string) {
        const rect = svg.current?.getBoundingClientRect();
        const point = positions[id];
        if (!rect || !point) return;
        setView((v) => ({
          ...v,
          x: rect.width / 2 - (point.x + nodeWidth / 2) * v.k,
          y: rect.height / 2 - (point.y + nodeHeight / 2) * v.k,
        }));
      },
      center() {
        const rect = svg.current?.getBoundingClientRect();
        return {
          x: ((rect?.width ?? 600) / 2 - view.x) / view.k - nodeWidth / 2,
          y: ((rect?.height ?? 400) / 2 - view.y) / view.k - nodeHeight / 2,
        };
      },
    }),
    [fit, positions, view],
  );

  const onWheel = (event: ReactWheelEvent<SVGSVGElement>) => {
    const rect = svg.current?.getBoundingClientRect();
    const factor = Math.exp(-event.deltaY * 0.0015);
    setView((v) => zoomAt(v, event.clientX - (rect?.left ?? 0), event.clientY - (rect?.top ?? 0), factor));
  };

  const onPointerDown = (event: ReactPointerEvent<SVGSVGElement>) => {
    if (event.button !== 0) return;
    const target = event.target as Element;
    const port = target.closest("[data-port]");
    const nodeElement = target.closest("[data-node-id]");
    const edgeElement = target.closest("[data-edge-id]");
    const point = toFlow(event.clientX, event.clientY);
    try {
      svg.current?.setPointerCapture(event.pointerId);
    } catch {
      // A synthetic pointer (the benchmark's script) cannot be captured; the gesture works without.
    }
    if (port && !readOnly) {
      const from = port.getAttribute("data-port")!;
      gesture.current = { kind: "connect", from, start: point };
      setWire({ from, to: point });
    } else if (nodeElement) {
      const id = nodeElement.getAttribute("data-node-id")!;
      // A second press on the same node soon after the first opens its editor (a double click;
      // pointer capture would send the dblclick event to the canvas itself).
      const last = lastPress.current;
      lastPress.current = { id, time: event.timeStamp };
      if (last && last.id === id && event.timeStamp - last.time < 400) {
        props.onOpen(id);
        return;
      }
      const additive = event.shiftKey || event.ctrlKey || event.metaKey;
      let ids = [...selected];
      if (!selected.has(id)) {
        props.onSelect([id], additive);
        ids = additive ? [...ids, id] : [id];
      } else if (additive) {
        props.onSelect([id], true);
        return;
      }
      if (!readOnly) {
        gesture.current = { kind: "drag", start: point, ids, moved: false };
        setDragging(new Set(ids));
      }
    } else if (edgeElement) {
      props.onSelectEdge(edgeElement.getAttribute("data-edge-id")!);
    } else if (event.shiftKey) {
      gesture.current = { kind: "box", start: point };
      setBox({ a: point, b: point });
    } else {
      props.onSelect([], false);
      gesture.current = { kind: "pan", start: { x: event.clientX, y: event.clientY }, view };
    }
  };

  const onPointerMove = (event: ReactPointerEvent<SVGSVGElement>) => {
    const current = gesture.current;
    if (!current) return;
    if (current.kind === "pan") {
      setView({
        ...current.view,
        x: current.view.x + event.clientX - current.start.x,
        y: current.view.y + event.clientY - current.start.y,
      });
      return;
    }
    const point = toFlow(event.clientX, event.clientY);
    if (current.kind === "drag") {
      current.moved = true;
      setOffset({ x: point.x - current.start.x, y: point.y - current.start.y });
    } else if (current.kind === "connect") {
      setWire({ from: current.from, to: point });
    } else {
      setBox({ a: current.start, b: point });
    }
  };

  const onPointerUp = (event: ReactPointerEvent<SVGSVGElement>) => {
    const current = gesture.current;
    gesture.current = undefined;
    if (!current) return;
    if (current.kind === "drag") {
      if (current.moved && (offset.x !== 0 || offset.y !== 0)) {
        const moved: { [id: string]: Point } = {};
        for (const id of current.ids) {
          const p = positions[id];
          if (p) moved[id] = { x: p.x + offset.x, y: p.y + offset.y };
        }
        props.onMove(moved);
      }
      setOffset({ x: 0, y: 0 });
      setDragging(new Set());
    } else if (current.kind === "connect") {
      setWire(undefined);
      const over = document.elementFromPoint(event.clientX, event.clientY)?.closest("[data-node-id]");
      const to = over?.getAttribute("data-node-id");
      if (to) props.onConnect(current.from, to);
    } else if (current.kind === "box" && box) {
      const [x1, x2] = [Math.min(box.a.x, box.b.x), Math.max(box.a.x, box.b.x)];
      const [y1, y2] = [Math.min(box.a.y, box.b.y), Math.max(box.a.y, box.b.y)];
      const inside = doc.nodes
        .filter((node) => {
          const p = positions[node.id];
          return p && p.x >= x1 && p.x + nodeWidth <= x2 && p.y >= y1 && p.y + nodeHeight <= y2;
        })
        .map((node) => node.id);
      props.onSelect(inside, true);
      setBox(undefined);
    }
  };

  const at = (id: string): Point | undefined => {
    const p = positions[id];
    if (!p) return undefined;
    return dragging.has(id) ? { x: p.x + offset.x, y: p.y + offset.y } : p;
  };


  // What does not move during a drag is built once per drag (the same elements: React skips
  // them); only the dragged nodes and their edges are built again for every pointer move.
  const renderEdge = (edge: GraphEdge, from: Point, to: Point) => (
    <EdgeView
      key={edge.id}
      edge={edge}
      x1={from.x}
      y1={from.y}
      x2={to.x}
      y2={to.y}
      selected={props.selectedEdge === edge.id}
      invalid={props.edgeIssues.has(edge.id)}
      added={props.edgeDiff?.has(edge.id) ?? false}
    />
  );
  const renderNode = (node: FlowDoc["nodes"][number], p: Point) => (
    <NodeView
      key={node.id}
      id={node.id}
      kind={node.kind}
      x={p.x}
      y={p.y}
      entry={doc.entry === node.id}
      selected={selected.has(node.id)}
      marks={marks.get(node.id)}
      fanOut={nextList(node).length}
      waits={Array.isArray(node.wait_for) ? node.wait_for.length : 0}
      fanIn={fanIn.get(node.id) ?? 0}
      readOnly={readOnly}
    />
  );
  const still = useMemo(
    () => (
      <g>
        {edges.map((edge) => {
          const from = positions[edge.from];
          const to = positions[edge.to];
          if (!from || !to || dragging.has(edge.from) || dragging.has(edge.to)) return null;
          return renderEdge(edge, from, to);
        })}
        {props.ghosts?.map((ghost) => (
          <NodeView
            key={`ghost:${ghost.id}`}
            id={ghost.id}
            kind={ghost.kind}
            x={ghost.position.x}
            y={ghost.position.y}
            entry={false}
            selected={false}
            marks={removedMark}
            fanOut={0}
            waits={0}
            fanIn={0}
            readOnly
          />
        ))}
        {doc.nodes.map((node) => {
          const p = positions[node.id];
          return p && !dragging.has(node.id) ? renderNode(node, p) : null;
        })}
      </g>
    ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [edges, doc, positions, dragging, selected, marks, props.selectedEdge, props.edgeIssues, props.edgeDiff, props.ghosts, readOnly, fanIn],
  );
  const moving =
    dragging.size === 0 ? null : (
      <g>
        {edges.map((edge) => {
          if (!dragging.has(edge.from) && !dragging.has(edge.to)) return null;
          const from = at(edge.from);
          const to = at(edge.to);
          return from && to ? renderEdge(edge, from, to) : null;
        })}
        {doc.nodes.map((node) => {
          const p = dragging.has(node.id) ? at(node.id) : undefined;
          return p ? renderNode(node, p) : null;
        })}
      </g>
    );

  return (
    <svg
      ref={svg}
      className={`canvas${readOnly ? " canvas--readonly" : ""}`}
      data-testid="canvas"
      role="application"
      aria-label="Flow canvas"
      onWheel={onWheel}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" className="canvas__arrow" />
        </marker>
      </defs>
      <g transform={`translate(${view.x} ${view.y}) scale(${view.k})`} data-testid="canvas-world" data-zoom={view.k.toFixed(3)}>
        {still}
        {moving}
        {wire && positions[wire.from] && (
          <path
            className="canvas__wire"
            d={curve(positions[wire.from]!.x + nodeWidth / 2, positions[wire.from]!.y + nodeHeight, wire.to.x, wire.to.y)}
          />
        )}
        {box && (
          <rect
            className="canvas__box"
            x={Math.min(box.a.x, box.b.x)}
            y={Math.min(box.a.y, box.b.y)}
            width={Math.abs(box.a.x - box.b.x)}
            height={Math.abs(box.a.y - box.b.y)}
          />
        )}
      </g>
    </svg>
  );
});

const removedMark: NodeMarks = { diff: "removed" };

function zoomAt(view: View, cx: number, cy: number, factor: number): View {
  const k = Math.min(maxZoom, Math.max(minZoom, view.k * factor));
  const scale = k / view.k;
  return { k, x: cx - (cx - view.x) * scale, y: cy - (cy - view.y) * scale };
}

/** A curve from a node's foot to another's head; one going up swings out to the side. */
function curve(x1: number, y1: number, x2: number, y2: number): string {
  if (y2 >= y1 + 8) {
    const dy = Math.max(24, (y2 - y1) / 2);
    return `M ${x1} ${y1} C ${x1} ${y1 + dy}, ${x2} ${y2 - dy}, ${x2} ${y2}`;
  }
  const side = Math.max(x1, x2) + nodeWidth / 2 + 40;
  return `M ${x1} ${y1} C ${x1} ${y1 + 60}, ${side} ${y1 + 60}, ${side} ${(y1 + y2) / 2} S ${x2} ${y2 - 60}, ${x2} ${y2}`;
}

interface NodeViewProps {
  id: string;
  kind: string;
  x: number;
  y: number;
  entry: boolean;
  selected: boolean;
  marks: NodeMarks | undefined;
  fanOut: number;
  fanIn: number;
  waits: number;
  readOnly: boolean;
}

const NodeView = memo(function NodeView({ id, kind, x, y, entry, selected, marks, fanOut, fanIn, waits, readOnly }: NodeViewProps) {
  const classes = ["node", `node--${kind}`];
  if (selected) classes.push("node--selected");
  if (marks?.issues?.errors) classes.push("node--error");
  else if (marks?.issues?.warnings) classes.push("node--warning");
  if (marks?.run) classes.push(`node--${marks.run}`);
  if (marks?.diff) classes.push(`node--${marks.diff}`);
  const notes = [
    entry ? "entry" : "",
    fanOut > 1 ? `fans out to ${fanOut}` : "",
    waits > 0 ? `joins ${waits}` : fanIn > 1 ? `fan-in ${fanIn}` : "",
  ].filter(Boolean);
  return (
    <g
      className={classes.join(" ")}
      transform={`translate(${x} ${y})`}
      data-node-id={marks?.diff === "removed" ? undefined : id}
      data-ghost-id={marks?.diff === "removed" ? id : undefined}
      data-testid={marks?.diff === "removed" ? `ghost-${id}` : `node-${id}`}
      data-kind={kind}
      data-run={marks?.run}
      data-diff={marks?.diff}
      data-errors={marks?.issues?.errors ?? 0}
      aria-label={`${kind} node ${id}${notes.length ? ` (${notes.join(", ")})` : ""}`}
      aria-selected={selected}
    >
      <title>{`${id} (${kind})`}</title>
      <rect className="node__box" width={nodeWidth} height={nodeHeight} rx={8} />
      <rect className="node__stripe" width={6} height={nodeHeight} rx={3} />
      <text className="node__id" x={16} y={23}>
        {id.length > 22 ? `${id.slice(0, 21)}…` : id}
      </text>
      <text className="node__kind" x={16} y={42}>
        {kind}
        {notes.length ? ` · ${notes.join(" · ")}` : ""}
      </text>
      {marks?.issues && marks.issues.errors + marks.issues.warnings > 0 && (
        <g className="node__badge" transform={`translate(${nodeWidth - 14} 14)`} data-testid={`node-issues-${id}`}>
          <circle r={10} />
          <text y={4}>{marks.issues.errors || marks.issues.warnings}</text>
        </g>
      )}
      {!readOnly && kind !== "end" && <circle className="port" data-port={id} data-testid={`port-${id}`} cx={nodeWidth / 2} cy={nodeHeight} r={7} />}
    </g>
  );
});

interface EdgeViewProps {
  edge: GraphEdge;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  selected: boolean;
  invalid: boolean;
  added: boolean;
}

const EdgeView = memo(function EdgeView({ edge, x1, y1, x2, y2, selected, invalid, added }: EdgeViewProps) {
  const d = curve(x1 + nodeWidth / 2, y1 + nodeHeight, x2 + nodeWidth / 2, y2);
  const label = edge.label === undefined ? undefined : edge.label || "(no condition)";
  const short = label && label.length > 30 ? `${label.slice(0, 29)}…` : label;
  const mx = (x1 + x2) / 2 + nodeWidth / 2;
  const my = (y1 + nodeHeight + y2) / 2;
  const classes = ["edge", `edge--${edge.kind}`];
  if (selected) classes.push("edge--selected");
  if (invalid) classes.push("edge--error");
  if (added) classes.push("edge--added");
  return (
    <g className={classes.join(" ")} data-edge-id={edge.id} data-testid={`edge-${edge.from}-${edge.to}`}>
      <title>{`${edge.from} → ${edge.to}${label ? `: ${label}` : ""}`}</title>
      <path className="edge__hit" d={d} />
      <path className="edge__line" d={d} markerEnd="url(#arrow)" />
      {short && (
        <g transform={`translate(${mx} ${my})`} className="edge__label" data-testid={`edge-label-${edge.from}-${edge.to}`}>
          <rect x={-(short.length * 3.4 + 8)} y={-10} width={short.length * 6.8 + 16} height={20} rx={4} />
          <text y={4}>{short}</text>
        </g>
      )}
    </g>
  );
});
