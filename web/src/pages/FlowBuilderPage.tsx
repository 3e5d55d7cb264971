// The visual flow builder (issue 18; docs/WEB.md, "Flow builder"): `/agents` lists the agents,
// `/agents/new` starts an unsaved one (the canvas holds a draft until its first save, which is
// CreateAgent), `/agents/{id}` edits an agent's latest version. The canvas, the palette of the
// engine's node kinds, the node editor and channels (forms from the engine's schema), live
// validation (debounced ValidateFlow), save as a new version, versions (view, diff, roll back),
// try it (Execute with the draft), import / export and the JSON view.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { KeyboardEvent as ReactKeyboardEvent } from "react";
import { AgentService, ToolService } from "../api/generated";
import type { Agent, FieldViolation } from "../api/generated";
import { ApiError } from "../api/runtime";
import { navigate } from "../app/route";
import { Canvas } from "../builder/Canvas";
import type { CanvasHandle, NodeMarks } from "../builder/Canvas";
import { ChannelsPanel } from "../builder/ChannelsPanel";
import { copyNodes, pasteNodes } from "../builder/clipboard";
import type { Clip } from "../builder/clipboard";
import { diffFlows } from "../builder/diff";
import type { FlowDiff } from "../builder/diff";
import { addNode, connect, connectionRefused, removeEdge, removeNodes, renameNode, setChannel, setEntry, setField, setPositions } from "../builder/edit";
import { flowText, graphEdges, issueTarget, parseFlow } from "../builder/flow";
import type { FlowDoc, Point } from "../builder/flow";
import { commit, redo, startHistory, undo } from "../builder/history";
import type { History } from "../builder/history";
import { actionFor, shortcuts } from "../builder/keyboard";
import { layoutFlow, nodeHeight, nodeWidth, positionsOf } from "../builder/layout";
import { NodeEditor } from "../builder/NodeEditor";
import type { FieldIssue } from "../builder/NodeEditor";
import { flowSchema } from "../builder/schema.generated";
import { TryPanel } from "../builder/TryPanel";
import type { TryRun } from "../builder/TryPanel";
import { VersionsPanel } from "../builder/VersionsPanel";
import { describeError } from "../lib/errors";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";

/** How long the builder waits after an edit before validating. */
const validationDelayMs = 300;

export function FlowBuilderPage({ agentId }: { agentId?: string | undefined }) {
  if (!agentId) return <AgentList />;
  return <Builder key={agentId} agentId={agentId} />;
}

function AgentList() {
  const [agents, setAgents] = useState<Agent[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    AgentService.listAgents({ pageSize: 100 })
      .then((answer) => setAgents(answer.agents ?? []))
      .catch((failure: unknown) => setError(describeError(failure)));
  }, []);
  return (
    <div className="page">
      <div className="page__head">
        <h1>Agents</h1>
        <button type="button" className="button button--primary" onClick={() => navigate("/agents/new")} data-testid="agent-new">
          New agent
        </button>
      </div>
      {error && <ErrorAlert message={error} />}
      {!agents && !error && <Spinner label="Loading agents…" />}
      {agents && agents.length === 0 && <EmptyState title="No agents yet">Start one with New agent.</EmptyState>}
      {agents && agents.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Version</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {agents.map((agent) => (
              <tr key={agent.id}>
                <td>
                  <a href={`/agents/${agent.id}`} onClick={(event) => (event.preventDefault(), navigate(`/agents/${agent.id ?? ""}`))} data-testid={`agent-${agent.name}`}>
                    {agent.name}
                  </a>
                </td>
                <td>v{agent.latestVersion}</td>
                <td>{agent.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

type Side = "node" | "channels" | "versions" | "try" | "json";

type Mode =
  | { kind: "edit" }
  | { kind: "version"; version: number; doc: FlowDoc }
  | { kind: "diff"; from: number; to: number; before: FlowDoc; after: FlowDoc; diff: FlowDiff };

interface Validation {
  doc: FlowDoc;
  errors: FieldViolation[];
  warnings: FieldViolation[];
}

/** The first place at or below `wanted` where a new node covers no other. */
function freeSpot(positions: { [id: string]: Point }, wanted: Point): Point {
  const taken = Object.values(positions);
  const spot = { x: Math.round(wanted.x), y: Math.round(wanted.y) };
  while (taken.some((p) => Math.abs(p.x - spot.x) < nodeWidth + 16 && Math.abs(p.y - spot.y) < nodeHeight + 16)) {
    spot.y += nodeHeight + 24;
  }
  return spot;
}

/** A flow with positions for every node (laid out by dagre when it has none). */
function withLayout(doc: FlowDoc): FlowDoc {
  const saved = doc.metadata?.positions ?? {};
  if (doc.nodes.every((node) => saved[node.id])) return doc;
  return setPositions(doc, positionsOf(doc));
}

function Builder({ agentId }: { agentId: string }) {
  const isNew = agentId === "new";
  const [agent, setAgent] = useState<Agent>();
  const [loadError, setLoadError] = useState<string>();
  const [history, setHistory] = useState<History>(() => startHistory({ nodes: [], state: {} }));
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [message, setMessage] = useState("");
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [selectedEdge, setSelectedEdge] = useState<string>();
  const [side, setSide] = useState<Side>("node");
  const [mode, setMode] = useState<Mode>({ kind: "edit" });
  const [validation, setValidation] = useState<Validation>();
  const [notice, setNotice] = useState<string>();
  const [saveError, setSaveError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const [tools, setTools] = useState<string[]>([]);
  const [run, setRun] = useState<TryRun>();
  const [connecting, setConnecting] = useState<{ from: string; to?: string }>();
  const [help, setHelp] = useState(false);
  const clip = useRef<Clip>();
  const canvas = useRef<CanvasHandle>(null);
  const doc = history.present;

  const load = useCallback(
    async (focus?: number) => {
      if (isNew) return;
      try {
        const answer = await AgentService.getAgent({ agentId });
        const loaded = answer.agent ?? {};
        setAgent(loaded);
        setName(loaded.name ?? "");
        setDescription(loaded.description ?? "");
        setHistory(startHistory(withLayout(parseFlow(loaded.flowJson ?? "{}"))));
        setMode({ kind: "edit" });
        if (focus !== undefined) setNotice(`Now at version ${focus}.`);
      } catch (failure) {
        setLoadError(describeError(failure));
      }
    },
    [agentId, isNew],
  );

  useEffect(() => {
    void load();
    ToolService.listTools({ pageSize: 200 })
      .then((answer) => setTools((answer.tools ?? []).map((tool) => tool.name ?? "").filter(Boolean)))
      .catch(() => setTools([]));
  }, [load]);

  useEffect(() => {
    requestAnimationFrame(() => canvas.current?.fit());
  }, [agent?.version, mode.kind]);

  // Live validation: ValidateFlow on the document, debounced; the last answer wins.
  useEffect(() => {
    if (doc.nodes.length === 0) {
      setValidation(undefined);
      return;
    }
    let stale = false;
    const timer = window.setTimeout(() => {
      AgentService.validateFlow({ flowJson: flowText(doc) })
        .then((answer) => {
          if (!stale) setValidation({ doc, errors: answer.errors ?? [], warnings: answer.warnings ?? [] });
        })
        .catch((failure: unknown) => {
          if (!stale) setValidation({ doc, errors: [{ field: "$", code: "UNAVAILABLE", explanation: describeError(failure) }], warnings: [] });
        });
    }, validationDelayMs);
    return () => {
      stale = true;
      window.clearTimeout(timer);
    };
  }, [doc]);

  const shown: FlowDoc = mode.kind === "version" ? mode.doc : mode.kind === "diff" ? mode.after : doc;
  const readOnly = mode.kind !== "edit";
  const positions = useMemo(() => positionsOf(shown), [shown]);

  const edit = useCallback((change: (current: FlowDoc) => FlowDoc, key?: string) => {
    setHistory((current) => commit(current, change(current.present), key));
  }, []);

  const issues = useMemo(() => {
    const list = [
      ...(validation?.errors ?? []).map((violation) => ({ violation, warning: false })),
      ...(validation?.warnings ?? []).map((violation) => ({ violation, warning: true })),
    ];
    return list.map((entry) => ({ ...entry, target: issueTarget(validation?.doc ?? doc, entry.violation.field ?? "$") }));
  }, [validation, doc]);

  const marks = useMemo(() => {
    const result = new Map<string, NodeMarks>();
    const mark = (id: string) => {
      const existing = result.get(id) ?? {};
      result.set(id, existing);
      return existing;
    };
    if (mode.kind === "edit") {
      for (const issue of issues) {
        if (!issue.target.nodeId) continue;
        const node = mark(issue.target.nodeId);
        node.issues = node.issues ?? { errors: 0, warnings: 0 };
        if (issue.warning) node.issues.warnings++;
        else node.issues.errors++;
      }
      for (const [id, status] of run?.nodes ?? []) mark(id).run = status;
    }
    if (mode.kind === "diff") {
      for (const id of mode.diff.addedNodes) mark(id).diff = "added";
      for (const id of mode.diff.changedNodes) mark(id).diff = "changed";
    }
    return result;
  }, [issues, run, mode]);

  const edgeIssues = useMemo(
    () => new Set(mode.kind === "edit" ? issues.map((issue) => issue.target.edgeId).filter((id): id is string => !!id) : []),
    [issues, mode.kind],
  );

  const diffEdges = useMemo(() => {
    if (mode.kind !== "diff") return undefined;
    const added = new Set(mode.diff.addedEdges);
    const result = new Map<string, "added">();
    for (const edge of graphEdges(mode.after)) {
      const key = `${edge.from} → ${edge.to}${edge.label ? ` [${edge.label}]` : ""}`;
      if (added.has(key)) result.set(edge.id, "added");
    }
    return result;
  }, [mode]);

  const ghosts = useMemo(() => {
    if (mode.kind !== "diff") return undefined;
    const before = positionsOf(mode.before);
    return mode.before.nodes
      .filter((node) => mode.diff.removedNodes.includes(node.id))
      .map((node) => ({ id: node.id, kind: node.kind, position: before[node.id] ?? { x: 0, y: 0 } }));
  }, [mode]);

  const selectOne = (id: string | undefined) => {
    setSelected(new Set(id ? [id] : []));
    setSelectedEdge(undefined);
    if (id) canvas.current?.reveal(id);
  };

  const openEditor = (id: string) => {
    selectOne(id);
    setSide("node");
    requestAnimationFrame(() => document.getElementById("node-id")?.focus());
  };

  const addKind = (kind: string, at?: Point) => {
    const position = freeSpot(positions, at ?? canvas.current?.center() ?? { x: 40, y: 40 });
    let id = "";
    edit((current) => {
      const next = addNode(current, kind, position);
      id = next.nodes[next.nodes.length - 1]!.id;
      return next;
    });
    requestAnimationFrame(() => {
      setSelected(new Set([id]));
      setSide("node");
    });
  };

  const doConnect = (from: string, to: string) => {
    const refused = connectionRefused(doc, from, to);
    if (refused) {
      setNotice(`Not connected: ${refused}.`);
      return;
    }
    edit((current) => connect(current, from, to));
    setNotice(`Connected ${from} → ${to}.`);
  };

  const deleteSelection = () => {
    if (selectedEdge) {
      const edge = graphEdges(doc).find((candidate) => candidate.id === selectedEdge);
      if (edge) edit((current) => removeEdge(current, edge));
      setSelectedEdge(undefined);
    } else if (selected.size > 0) {
      edit((current) => removeNodes(current, selected));
      setSelected(new Set());
    }
  };

  const onKeyDown = (event: ReactKeyboardEvent<HTMLDivElement>) => {
    const action = actionFor(event);
    if (!action) return;
    if (readOnly && !["selectNext", "selectEdge", "pan", "open", "escape", "zoom", "fit", "help", "copy", "selectAll"].includes(action.kind)) return;
    event.preventDefault();
    const ids = shown.nodes.map((node) => node.id);
    const first = [...selected][0];
    switch (action.kind) {
      case "delete":
        return deleteSelection();
      case "undo":
        return setHistory(undo);
      case "redo":
        return setHistory(redo);
      case "copy":
      case "cut":
        if (selected.size === 0) return;
        clip.current = copyNodes(shown, selected);
        if (action.kind === "cut") deleteSelection();
        setNotice(`${action.kind === "cut" ? "Cut" : "Copied"} ${selected.size} node${selected.size === 1 ? "" : "s"}.`);
        return;
      case "paste": {
        const pasted = clip.current;
        if (!pasted) return;
        let newIds: string[] = [];
        edit((current) => {
          const result = pasteNodes(current, pasted);
          newIds = result.ids;
          return result.doc;
        });
        requestAnimationFrame(() => setSelected(new Set(newIds)));
        return;
      }
      case "selectAll":
        return setSelected(new Set(ids));
      case "selectNext": {
        if (connecting) {
          const others = ids.filter((id) => id !== connecting.from);
          const at = connecting.to ? others.indexOf(connecting.to) : -1;
          const to = others[(at + action.step + others.length) % others.length];
          if (to) {
            setConnecting({ ...connecting, to });
            selectOne(to);
            setNotice(`Connect ${connecting.from} → ${to}? Enter connects, Escape cancels.`);
          }
          return;
        }
        const at = first ? ids.indexOf(first) : -1;
        return selectOne(ids[(at + action.step + ids.length) % ids.length]);
      }
      case "selectEdge": {
        const all = graphEdges(shown);
        const own = first ? all.filter((edge) => edge.from === first) : [];
        const pool = own.length > 0 ? own : all;
        if (pool.length === 0) return;
        const at = pool.findIndex((edge) => edge.id === selectedEdge);
        const edge = pool[(at + action.step + pool.length) % pool.length]!;
        setSelectedEdge(edge.id);
        setSide("node");
        setNotice(`Edge ${edge.from} → ${edge.to}${edge.label ? ` (${edge.label})` : ""} selected; Delete removes it.`);
        return;
      }
      case "pan":
        return canvas.current?.panBy(action.dx, action.dy);
      case "move": {
        if (selected.size === 0) return;
        const moved: { [id: string]: Point } = {};
        for (const id of selected) {
          const p = positions[id];
          if (p) moved[id] = { x: p.x + action.dx, y: p.y + action.dy };
        }
        return edit((current) => setPositions(current, moved));
      }
      case "open":
        if (connecting?.to) {
          doConnect(connecting.from, connecting.to);
          setConnecting(undefined);
          return selectOne(connecting.from);
        }
        if (first) openEditor(first);
        return;
      case "escape":
        if (connecting) {
          setConnecting(undefined);
          setNotice("Connecting cancelled.");
          return;
        }
        setSelected(new Set());
        setSelectedEdge(undefined);
        return;
      case "connect":
        if (!first) return setNotice("Select the node to connect from first.");
        setConnecting({ from: first });
        setNotice(`Connecting from ${first}: choose the target with the arrow keys, then Enter.`);
        return;
      case "zoom":
        return canvas.current?.zoomBy(action.factor);
      case "fit":
        return canvas.current?.fit();
      case "layout":
        edit((current) => setPositions(current, layoutFlow(current)));
        requestAnimationFrame(() => canvas.current?.fit());
        return;
      case "add":
        return addKind(action.nodeKind);
      case "help":
        return setHelp((current) => !current);
    }
  };

  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    try {
      const flowJson = flowText(doc);
      if (isNew) {
        const created = await AgentService.createAgent({ name, description, flowJson, changeMessage: message || "Initial version" });
        setMessage("");
        navigate(`/agents/${created.agent?.id ?? ""}`, true);
        return;
      }
      const updated = await AgentService.updateAgent({
        agentId,
        expectedVersion: agent?.latestVersion ?? 0,
        name,
        description,
        flowJson,
        changeMessage: message,
        tags: agent?.tags ?? [],
        metadata: agent?.metadata ?? {},
      });
      setAgent(updated.agent);
      setMessage("");
      setNotice(`Saved version ${updated.agent?.version ?? ""}.`);
    } catch (failure) {
      const violations = failure instanceof ApiError ? (failure.details?.["violations"] as FieldViolation[] | undefined) : undefined;
      setSaveError(
        describeError(failure) + (violations?.length ? ` ${violations.map((v) => `${v.field}: ${v.explanation}`).join("; ")}` : ""),
      );
    } finally {
      setSaving(false);
    }
  };

  const viewVersion = async (version: number) => {
    try {
      const answer = await AgentService.getAgent2({ agentId, version });
      setMode({ kind: "version", version, doc: withLayout(parseFlow(answer.agent?.flowJson ?? "{}")) });
      setSelected(new Set());
    } catch (failure) {
      setNotice(describeError(failure));
    }
  };

  const compare = async (from: number, to: number) => {
    try {
      const [a, b] = await Promise.all([AgentService.getAgent2({ agentId, version: from }), AgentService.getAgent2({ agentId, version: to })]);
      const before = withLayout(parseFlow(a.agent?.flowJson ?? "{}"));
      const after = withLayout(parseFlow(b.agent?.flowJson ?? "{}"));
      setMode({ kind: "diff", from, to, before, after, diff: diffFlows(before, after) });
      setSelected(new Set());
    } catch (failure) {
      setNotice(describeError(failure));
    }
  };

  const rollback = async (version: number) => {
    try {
      const answer = await AgentService.rollbackAgent({ agentId, toVersion: version, expectedVersion: agent?.latestVersion ?? 0 });
      await load(answer.agent?.version);
    } catch (failure) {
      setNotice(describeError(failure));
    }
  };

  if (loadError) return <ErrorAlert message={loadError} onRetry={() => void load()} />;
  if (!isNew && !agent) return <Spinner label="Loading the agent…" />;

  const selectedNode = selected.size === 1 ? shown.nodes.find((node) => selected.has(node.id)) : undefined;
  const nodeIndex = selectedNode ? shown.nodes.indexOf(selectedNode) : -1;
  const nodeIssues: FieldIssue[] = issues
    .filter((issue) => mode.kind === "edit" && issue.target.nodeId === selectedNode?.id && nodeIndex >= 0)
    .map((issue) => ({
      path: (issue.violation.field ?? "").replace(/^\$\.nodes\[\d+\]\.?/, "").replace(/^\$\.metadata\.positions\..*$/, "position"),
      message: `${issue.violation.code}: ${issue.violation.explanation ?? ""}`,
      warning: issue.warning,
    }));
  const channelIssues = issues
    .filter((issue) => issue.target.channel)
    .map((issue) => ({
      channel: issue.target.channel!,
      issue: { path: (issue.violation.field ?? "").replace(/^\$\./, ""), message: issue.violation.explanation ?? "", warning: issue.warning },
    }));
  const errorCount = validation?.errors.length ?? 0;

  return (
    <div className="builder" data-testid="builder">
      <div className="builder__bar">
        <label className="visually-hidden" htmlFor="agent-name">
          Agent name
        </label>
        <input id="agent-name" className="input builder__name" placeholder="Agent name" value={name} onChange={(event) => setName(event.target.value)} data-testid="agent-name" />
        <label className="visually-hidden" htmlFor="agent-description">
          Description
        </label>
        <input
          id="agent-description"
          className="input builder__description"
          placeholder="Description"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <span className="badge" data-testid="agent-version">
          {isNew ? "unsaved draft" : `v${agent?.latestVersion ?? ""}`}
        </span>
        <label className="visually-hidden" htmlFor="save-message">
          What changed
        </label>
        <input
          id="save-message"
          className="input builder__message"
          placeholder={isNew ? "Initial version" : "What changed (required)"}
          value={message}
          onChange={(event) => setMessage(event.target.value)}
          data-testid="save-message"
        />
        <button
          type="button"
          className="button button--primary"
          disabled={saving || readOnly || !name || (!isNew && !message) || errorCount > 0}
          onClick={() => void save()}
          data-testid="save"
        >
          {saving ? "Saving…" : isNew ? "Create agent" : "Save version"}
        </button>
      </div>
      {saveError && <ErrorAlert message={saveError} />}
      {mode.kind !== "edit" && (
        <div className="alert alert--info builder__mode" data-testid="builder-mode">
          {mode.kind === "version" ? (
            <span>Viewing version {mode.version} (read-only).</span>
          ) : (
            <span data-testid="diff-summary">
              v{mode.from} → v{mode.to}: {mode.diff.addedNodes.length} added, {mode.diff.removedNodes.length} removed, {mode.diff.changedNodes.length} changed
              {mode.diff.changedNodes.length ? ` (${mode.diff.changedNodes.join(", ")})` : ""}.
            </span>
          )}
          <button type="button" className="button button--small" onClick={() => setMode({ kind: "edit" })} data-testid="back-to-draft">
            Back to the draft
          </button>
        </div>
      )}
      <div className="builder__body">
        <aside className="builder__palette" aria-label="Node kinds">
          <h2>Add a node</h2>
          {flowSchema.nodeKinds.map((kind, index) => (
            <button
              key={kind.kind}
              type="button"
              className={`palette__item node--${kind.kind}`}
              title={`${kind.summary} (key ${index + 1})`}
              disabled={readOnly}
              onClick={() => addKind(kind.kind)}
              data-testid={`palette-${kind.kind}`}
            >
              {kind.kind}
            </button>
          ))}
          <h2>View</h2>
          <div className="palette__tools">
            <button type="button" className="button button--small" onClick={() => setHistory(undo)} disabled={readOnly || history.past.length === 0} data-testid="undo">
              Undo
            </button>
            <button type="button" className="button button--small" onClick={() => setHistory(redo)} disabled={readOnly || history.future.length === 0} data-testid="redo">
              Redo
            </button>
            <button type="button" className="button button--small" onClick={() => canvas.current?.fit()} data-testid="fit">
              Fit
            </button>
            <button type="button" className="button button--small" onClick={() => canvas.current?.zoomBy(1.25)}>
              Zoom in
            </button>
            <button type="button" className="button button--small" onClick={() => canvas.current?.zoomBy(0.8)}>
              Zoom out
            </button>
            <button
              type="button"
              className="button button--small"
              disabled={readOnly}
              onClick={() => {
                edit((current) => setPositions(current, layoutFlow(current)));
                requestAnimationFrame(() => canvas.current?.fit());
              }}
              data-testid="relayout"
            >
              Lay out
            </button>
            <button type="button" className="button button--small" onClick={() => setHelp((current) => !current)}>
              Shortcuts
            </button>
          </div>
        </aside>
        <div className="builder__canvas" onKeyDown={onKeyDown} tabIndex={0} aria-label="Flow canvas; ? lists the shortcuts" data-testid="canvas-area">
          <Canvas
            ref={canvas}
            doc={shown}
            positions={positions}
            selected={selected}
            selectedEdge={selectedEdge}
            marks={marks}
            edgeIssues={edgeIssues}
            edgeDiff={diffEdges}
            ghosts={ghosts}
            readOnly={readOnly}
            onSelect={(ids, additive) => {
              setSelectedEdge(undefined);
              setSelected((current) => {
                if (!additive) return new Set(ids);
                const next = new Set(current);
                for (const id of ids) {
                  if (next.has(id) && ids.length === 1) next.delete(id);
                  else next.add(id);
                }
                return next;
              });
              if (ids.length === 1 && side !== "try") setSide("node");
            }}
            onSelectEdge={(id) => {
              setSelectedEdge(id);
              setSelected(new Set());
            }}
            onMove={(moved) => edit((current) => setPositions(current, moved))}
            onConnect={doConnect}
            onOpen={openEditor}
          />
          {shown.nodes.length === 0 && (
            <p className="builder__empty">Add a node from the palette (or press 1–{flowSchema.nodeKinds.length}); the first one is where the run starts.</p>
          )}
          {help && (
            <div className="builder__help" role="dialog" aria-label="Shortcuts" data-testid="shortcuts">
              <table className="table">
                <tbody>
                  {shortcuts.map(([keys, what]) => (
                    <tr key={keys}>
                      <td className="mono">{keys}</td>
                      <td>{what}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <aside className="builder__side" aria-label="Details">
          <div className="tabs" role="tablist">
            {(["node", "channels", "versions", "try", "json"] as Side[]).map((tab) => (
              <button
                key={tab}
                type="button"
                role="tab"
                aria-selected={side === tab}
                className={side === tab ? "tab tab--active" : "tab"}
                onClick={() => setSide(tab)}
                disabled={tab === "versions" && isNew}
                data-testid={`tab-${tab}`}
              >
                {{ node: "Node", channels: "Flow", versions: "Versions", try: "Try it", json: "JSON" }[tab]}
              </button>
            ))}
          </div>
          {side === "node" &&
            (selectedNode ? (
              <NodeEditor
                key={selectedNode.id}
                doc={shown}
                node={selectedNode}
                issues={nodeIssues}
                tools={tools}
                readOnly={readOnly}
                onField={(key, value, typing) => edit((current) => setField(current, selectedNode.id, key, value), typing)}
                onRename={(to) => {
                  if (!/^[A-Za-z0-9_.-]+$/.test(to)) return "An id is letters, digits, _, . and -";
                  if (doc.nodes.some((node) => node.id === to)) return `${to} is taken`;
                  edit((current) => renameNode(current, selectedNode.id, to));
                  setSelected(new Set([to]));
                  return undefined;
                }}
                onEntry={() => edit((current) => setEntry(current, selectedNode.id))}
              />
            ) : selectedEdge ? (
              <EdgeDetails doc={shown} edgeId={selectedEdge} readOnly={readOnly} onDelete={deleteSelection} onOpen={openEditor} />
            ) : (
              <p className="field__help">
                {selected.size > 1 ? `${selected.size} nodes selected.` : "Select a node to edit it (click it, or use the arrow keys on the canvas and Enter)."}
              </p>
            ))}
          {side === "channels" && (
            <ChannelsPanel
              doc={shown}
              readOnly={readOnly}
              issues={channelIssues}
              onChange={(channel, declaration, typing) => edit((current) => setChannel(current, channel, declaration), typing)}
              onFlowField={(key, value) =>
                edit((current) => {
                  const next: FlowDoc = { ...current };
                  if (value === undefined) delete next[key];
                  else next[key] = value;
                  return next;
                }, `flow.${key}`)
              }
            />
          )}
          {side === "versions" && !isNew && agent && (
            <VersionsPanel
              agentId={agentId}
              latest={agent.latestVersion ?? 0}
              viewing={mode.kind === "version" ? mode.version : undefined}
              readOnly={false}
              onView={(version) => void viewVersion(version)}
              onCompare={(from, to) => void compare(from, to)}
              onRollback={rollback}
            />
          )}
          {side === "versions" && mode.kind === "diff" && <JsonDiff diff={mode.diff} />}
          {side === "try" && <TryPanel flowJson={flowText(doc)} run={run} selected={selectedNode?.id} onRun={setRun} />}
          {side === "json" && (
            <JsonPanel
              doc={shown}
              readOnly={readOnly}
              fileName={`${name || "flow"}.flow.json`}
              onReplace={(next, key) => {
                edit(() => withLayout(next), key);
                if (key === undefined) requestAnimationFrame(() => canvas.current?.fit()); // an import
              }}
            />
          )}
        </aside>
      </div>
      <IssuesList
        issues={mode.kind === "edit" ? issues : []}
        validating={doc.nodes.length > 0 && validation?.doc !== doc}
        onJump={(target) => {
          if (target.nodeId) {
            openEditor(target.nodeId);
          } else if (target.edgeId) {
            setSelectedEdge(target.edgeId);
            setSelected(new Set());
            setSide("node");
          } else if (target.channel) {
            setSide("channels");
          }
        }}
      />
      <p className="builder__notice" role="status" data-testid="builder-notice">
        {notice}
      </p>
    </div>
  );
}

function EdgeDetails({ doc, edgeId, readOnly, onDelete, onOpen }: { doc: FlowDoc; edgeId: string; readOnly: boolean; onDelete(): void; onOpen(id: string): void }) {
  const edge = graphEdges(doc).find((candidate) => candidate.id === edgeId);
  if (!edge) return <p className="field__help">The edge is gone.</p>;
  return (
    <section className="node-editor" aria-label="Edge" data-testid="edge-details">
      <h2>
        {edge.from} → {edge.to}
      </h2>
      <p>
        Written as <span className="mono">{edge.path}</span> ({edge.kind}){edge.label ? `: ${edge.label}` : ""}.
      </p>
      <div className="actions">
        <button type="button" className="button button--small" onClick={() => onOpen(edge.from)}>
          Edit {edge.from}
        </button>
        {!readOnly && (
          <button type="button" className="button button--small button--danger" onClick={onDelete} data-testid="edge-delete">
            Delete the edge
          </button>
        )}
      </div>
    </section>
  );
}

interface IssueEntry {
  violation: FieldViolation;
  warning: boolean;
  target: ReturnType<typeof issueTarget>;
}

function IssuesList({ issues, validating, onJump }: { issues: IssueEntry[]; validating: boolean; onJump(target: IssueEntry["target"]): void }) {
  const errors = issues.filter((issue) => !issue.warning).length;
  return (
    <section className="issues" aria-label="Validation" data-testid="issues" data-errors={errors} data-validating={validating}>
      <h2>
        {errors === 0 && issues.length === 0 ? "No problems" : `${errors} error${errors === 1 ? "" : "s"}, ${issues.length - errors} warning${issues.length - errors === 1 ? "" : "s"}`}
        {validating && <span className="field__help"> · checking…</span>}
      </h2>
      {issues.length > 0 && (
        <ul className="issues__list">
          {issues.map((issue, index) => (
            <li key={`${issue.violation.field}:${issue.violation.code}:${index}`} className={issue.warning ? "issues__warning" : "issues__error"}>
              <button type="button" className="linklike" onClick={() => onJump(issue.target)} data-testid="issue">
                <span className="mono">{issue.violation.field}</span> {issue.violation.code}: {issue.violation.explanation}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function JsonDiff({ diff }: { diff: FlowDiff }) {
  return (
    <section className="json-diff" aria-label="JSON diff" data-testid="json-diff">
      <h2>JSON diff</h2>
      {diff.changes.length === 0 && <p className="field__help">The two versions are the same flow (positions aside).</p>}
      <ul className="changes">
        {diff.changes.map((change) => (
          <li key={change.path} className={`changes__${change.kind}`}>
            <span className="mono">{change.path}</span> {change.kind}
            {change.before !== undefined && <pre className="changes__before mono">- {JSON.stringify(change.before)}</pre>}
            {change.after !== undefined && <pre className="mono">+ {JSON.stringify(change.after)}</pre>}
          </li>
        ))}
      </ul>
      {(diff.addedEdges.length > 0 || diff.removedEdges.length > 0) && (
        <p>
          Edges: {diff.addedEdges.map((edge) => `+ ${edge}`).join(", ")} {diff.removedEdges.map((edge) => `- ${edge}`).join(", ")}
        </p>
      )}
    </section>
  );
}

/** The document as JSON, kept in sync with the canvas both ways; import from a file, export to one. */
function JsonPanel({ doc, readOnly, fileName, onReplace }: { doc: FlowDoc; readOnly: boolean; fileName: string; onReplace(doc: FlowDoc, key?: string): void }) {
  const text = flowText(doc);
  const [draft, setDraft] = useState<string>();
  const [error, setError] = useState<string>();
  const apply = (value: string, key?: string) => {
    try {
      onReplace(parseFlow(value), key);
      setError(undefined);
      return true;
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      return false;
    }
  };
  return (
    <section className="json-view" aria-label="JSON" data-testid="json-view">
      <div className="actions">
        <button
          type="button"
          className="button button--small"
          data-testid="export"
          onClick={() => {
            const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
            const link = document.createElement("a");
            link.href = url;
            link.download = fileName;
            link.click();
            URL.revokeObjectURL(url);
          }}
        >
          Export
        </button>
        {!readOnly && (
          <label className="button button--small">
            Import
            <input
              type="file"
              accept=".json,application/json"
              className="visually-hidden"
              data-testid="import"
              onChange={async (event) => {
                const file = event.target.files?.[0];
                if (file) apply(await file.text());
                event.target.value = "";
              }}
            />
          </label>
        )}
      </div>
      <label htmlFor="flow-json">The flow document</label>
      <textarea
        id="flow-json"
        className="textarea mono json-view__text"
        value={draft ?? text}
        readOnly={readOnly}
        spellCheck={false}
        data-testid="flow-json"
        onFocus={() => setDraft(text)}
        onBlur={() => setDraft(undefined)}
        onChange={(event) => {
          setDraft(event.target.value);
          apply(event.target.value, "json");
        }}
      />
      {error && (
        <p className="field__error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
