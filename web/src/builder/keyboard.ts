// The canvas's keyboard shortcuts: every canvas action has one (docs/WEB.md, "Flow builder").
// A key event (with its modifiers) maps to an action; the page carries it out.
import { flowSchema } from "./schema.generated";

/** What a key does on the canvas. */
export type Action =
  | { kind: "delete" }
  | { kind: "undo" }
  | { kind: "redo" }
  | { kind: "copy" }
  | { kind: "cut" }
  | { kind: "paste" }
  | { kind: "selectAll" }
  | { kind: "selectNext"; step: 1 | -1 }
  | { kind: "selectEdge"; step: 1 | -1 }
  | { kind: "pan"; dx: number; dy: number }
  | { kind: "move"; dx: number; dy: number }
  | { kind: "open" }
  | { kind: "escape" }
  | { kind: "connect" }
  | { kind: "zoom"; factor: number }
  | { kind: "fit" }
  | { kind: "layout" }
  | { kind: "add"; nodeKind: string }
  | { kind: "help" };

/** The parts of a KeyboardEvent that decide the action. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** The step of a keyboard move, in flow units. */
export const moveStep = 20;
/** The step of a keyboard pan, in pixels. */
export const panStep = 80;

/** The action of a key press on the canvas, if any. */
export function actionFor(press: KeyPress): Action | undefined {
  const command = press.ctrlKey || press.metaKey;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if (command) {
    if (key === "z") return press.shiftKey ? { kind: "redo" } : { kind: "undo" };
    if (key === "y") return { kind: "redo" };
    if (key === "c") return { kind: "copy" };
    if (key === "x") return { kind: "cut" };
    if (key === "v") return { kind: "paste" };
    if (key === "a") return { kind: "selectAll" };
    return undefined;
  }
  if (press.altKey) {
    const pans: { [key: string]: [number, number] } = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const pan = pans[key];
    return pan ? { kind: "pan", dx: pan[0] * panStep, dy: pan[1] * panStep } : undefined;
  }
  switch (key) {
    case "Delete":
    case "Backspace":
      return { kind: "delete" };
    case "ArrowRight":
    case "ArrowDown":
      return press.shiftKey ? { kind: "move", dx: key === "ArrowRight" ? moveStep : 0, dy: key === "ArrowDown" ? moveStep : 0 } : { kind: "selectNext", step: 1 };
    case "ArrowLeft":
    case "ArrowUp":
      return press.shiftKey ? { kind: "move", dx: key === "ArrowLeft" ? -moveStep : 0, dy: key === "ArrowUp" ? -moveStep : 0 } : { kind: "selectNext", step: -1 };
    case "Enter":
      return { kind: "open" };
    case "Escape":
      return { kind: "escape" };
    case "c":
      return { kind: "connect" };
    case "e":
      return { kind: "selectEdge", step: press.shiftKey ? -1 : 1 };
    case "+":
    case "=":
      return { kind: "zoom", factor: 1.25 };
    case "-":
      return { kind: "zoom", factor: 0.8 };
    case "0":
    case "f":
      return { kind: "fit" };
    case "l":
      return { kind: "layout" };
    case "?":
      return { kind: "help" };
  }
  const digit = Number(key);
  const nodeKind = Number.isInteger(digit) && digit >= 1 ? flowSchema.nodeKinds[digit - 1] : undefined;
  return nodeKind ? { kind: "add", nodeKind: nodeKind.kind } : undefined;
}

/** The shortcuts as the help lists them. */
export const shortcuts: [string, string][] = [
  ["↑ ↓ ← →", "select the previous / next node"],
  ["Shift + arrows", "move the selected nodes"],
  ["Enter", "open the selected node's editor"],
  ["e / Shift+e", "select the next / previous edge (of the selected node, else of the flow)"],
  ["Alt + arrows", "pan the view"],
  ["c, then arrows, Enter", "connect the selected node to another"],
  ["Delete", "delete the selected nodes or edge"],
  ["Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"],
  ["Ctrl+C / Ctrl+X / Ctrl+V", "copy / cut / paste"],
  ["Ctrl+A", "select every node"],
  ["+ / -", "zoom in / out"],
  ["0 or f", "fit the flow to the view"],
  ["l", "lay the flow out again (dagre)"],
  [`1 … ${flowSchema.nodeKinds.length}`, `add a node: ${flowSchema.nodeKinds.map((kind) => kind.kind).join(", ")}`],
  ["Escape", "cancel connecting / clear the selection"],
  ["?", "show these shortcuts"],
];
