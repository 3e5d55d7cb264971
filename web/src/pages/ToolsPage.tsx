// Tools (builder or above): the list; create and edit a tool (kind, config and input schema as
// JSON until the server serves each kind's schema, secrets write-only: shown as set, never read
// back); test a tool with sample arguments (ExecuteTool) and see the result.
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import { ToolService, ToolKindValues } from "../api/generated";
import type { Tool, ToolKind } from "../api/generated";
import type { JsonObject } from "../api/runtime";
import { describeError } from "../lib/errors";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

const kinds = ToolKindValues.filter((k) => k !== "TOOL_KIND_UNSPECIFIED");

function kindName(kind: ToolKind | undefined): string {
  return (kind ?? "TOOL_KIND_UNSPECIFIED").replace("TOOL_KIND_", "").toLowerCase();
}

/** A JSON object from a text field, or the reason it is not one. */
export function parseObject(text: string, what: string): JsonObject | string {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as JsonObject;
    return `${what} must be a JSON object.`;
  } catch {
    return `${what} is not valid JSON.`;
  }
}

export function ToolsPage() {
  const [tools, setTools] = useState<Load<Tool[]>>({ status: "loading" });
  const [selected, setSelected] = useState<string | "new">();

  const load = useCallback(async () => {
    try {
      const answer = await ToolService.listTools({ pageSize: 200 });
      setTools({ status: "ready", value: answer.tools ?? [] });
    } catch (failure) {
      setTools({ status: "error", message: describeError(failure) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const current = tools.status === "ready" ? tools.value.find((t) => t.id === selected) : undefined;
  return (
    <div className="page">
      <div className="page__head">
        <h1>Tools</h1>
        <button type="button" className="button button--primary" onClick={() => setSelected("new")} data-testid="tool-new">
          New tool
        </button>
      </div>
      {tools.status === "loading" && <Spinner label="Loading tools…" />}
      {tools.status === "error" && <ErrorAlert message={tools.message} onRetry={() => void load()} />}
      {tools.status === "ready" && tools.value.length === 0 && (
        <EmptyState title="No tools yet">
          <p>Tools are what flows call: the knowledge base, tickets, notifications, models, HTTP APIs.</p>
        </EmptyState>
      )}
      {tools.status === "ready" && tools.value.length > 0 && (
        <table className="table" data-testid="tools">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Kind</th>
              <th scope="col" className="table__wide">
                Secrets
              </th>
              <th scope="col">Enabled</th>
            </tr>
          </thead>
          <tbody>
            {tools.value.map((tool) => (
              <tr key={tool.id} data-testid="tool" data-name={tool.name}>
                <td>
                  <button type="button" className="linklike" onClick={() => setSelected(tool.id)}>
                    <strong>{tool.name}</strong>
                  </button>
                </td>
                <td>{kindName(tool.kind)}</td>
                <td className="table__wide">{(tool.secretNames ?? []).join(", ") || "—"}</td>
                <td>{tool.enabled ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected && (
        <ToolEditor
          key={selected + (current?.revision ?? "")}
          tool={selected === "new" ? undefined : current}
          onSaved={(tool) => {
            setSelected(tool.id);
            void load();
          }}
          onDeleted={() => {
            setSelected(undefined);
            void load();
          }}
        />
      )}
      {current && <ToolTester key={current.id} tool={current} />}
    </div>
  );
}

function ToolEditor(props: { tool: Tool | undefined; onSaved: (tool: Tool) => void; onDeleted: () => void }) {
  const { tool, onSaved } = props;
  const [confirming, setConfirming] = useState(false);
  const [name, setName] = useState(tool?.name ?? "");
  const [description, setDescription] = useState(tool?.description ?? "");
  const [kind, setKind] = useState<ToolKind>(tool?.kind ?? "TOOL_KIND_HTTP");
  const [config, setConfig] = useState(JSON.stringify(tool?.config ?? {}, null, 2));
  const [inputSchema, setInputSchema] = useState(JSON.stringify(tool?.inputSchema ?? {}, null, 2));
  const [enabled, setEnabled] = useState(tool?.enabled ?? true);
  // Secrets: names as set on the server (values never come back) plus new ones typed here.
  const [secrets, setSecrets] = useState<{ name: string; value: string }[]>(
    (tool?.secretNames ?? []).map((n) => ({ name: n, value: "" })),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    const parsedConfig = parseObject(config, "The config");
    const parsedSchema = parseObject(inputSchema, "The input schema");
    if (typeof parsedConfig === "string") return setError(parsedConfig);
    if (typeof parsedSchema === "string") return setError(parsedSchema);
    const typed = secrets.filter((s) => s.name.trim() && s.value);
    const values = Object.fromEntries(typed.map((s) => [s.name.trim(), s.value]));
    setBusy(true);
    try {
      const body = {
        name: name.trim(),
        description,
        config: parsedConfig,
        inputSchema: parsedSchema,
        enabled,
        // Unchanged secrets are left out (blank: keep what is stored).
        ...(typed.length > 0 ? { secrets: values } : {}),
      };
      const answer = tool
        ? await ToolService.updateTool({ toolId: tool.id ?? "", expectedRevision: tool.revision ?? "", ...body })
        : await ToolService.createTool({ kind, ...body });
      setSecrets((list) => list.map((s) => ({ ...s, value: "" })));
      setSaved(true);
      if (answer.tool) onSaved(answer.tool);
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setError(code === "ABORTED" ? "Someone changed this tool meanwhile: reload it and try again." : describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!tool) return;
    setConfirming(false);
    setError(undefined);
    try {
      await ToolService.deleteTool({ toolId: tool.id ?? "" });
      props.onDeleted();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <form className="inspector__detail" onSubmit={(e) => void save(e)} data-testid="tool-editor">
      <h2>{tool ? `Edit ${tool.name}` : "New tool"}</h2>
      {error && <ErrorAlert message={error} />}
      {saved && (
        <div className="alert alert--info" role="status">
          Saved.
        </div>
      )}
      <div className="form-grid">
        <div className="field">
          <label htmlFor="tool-name">Name</label>
          <input id="tool-name" className="input" value={name} onChange={(e) => setName(e.target.value)} data-testid="tool-name" />
        </div>
        <div className="field">
          <label htmlFor="tool-kind">Kind</label>
          <select
            id="tool-kind"
            className="select"
            value={kind}
            disabled={tool !== undefined}
            onChange={(e) => setKind(e.target.value as ToolKind)}
            data-testid="tool-kind"
          >
            {kinds.map((k) => (
              <option key={k} value={k}>
                {kindName(k)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="tool-description">Description</label>
        <input id="tool-description" className="input" value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="tool-config">Config (JSON; the keys of this kind, docs/CONTROL.md)</label>
        <textarea
          id="tool-config"
          className="textarea mono"
          rows={5}
          value={config}
          onChange={(e) => setConfig(e.target.value)}
          data-testid="tool-config"
        />
      </div>
      <fieldset className="secrets">
        <legend>Secrets (write-only: stored encrypted, never shown again)</legend>
        {secrets.map((secret, index) => {
          const stored = tool?.secretNames?.includes(secret.name) ?? false;
          return (
            <div className="secrets__row" key={index}>
              <input
                className="input"
                aria-label="Secret name"
                placeholder="Name, e.g. Authorization"
                value={secret.name}
                readOnly={stored}
                onChange={(e) => setSecrets((list) => list.map((s, i) => (i === index ? { ...s, name: e.target.value } : s)))}
                data-testid="secret-name"
              />
              <input
                className="input"
                type="password"
                autoComplete="off"
                aria-label={`Value of ${secret.name || "the secret"}`}
                placeholder={stored ? "set (type to replace)" : "value"}
                value={secret.value}
                onChange={(e) => setSecrets((list) => list.map((s, i) => (i === index ? { ...s, value: e.target.value } : s)))}
                data-testid="secret-value"
              />
              <span className="status-line" data-testid="secret-state">
                {stored ? "set" : "not set"}
              </span>
            </div>
          );
        })}
        <button
          type="button"
          className="button button--small"
          onClick={() => setSecrets((list) => [...list, { name: "", value: "" }])}
          data-testid="secret-add"
        >
          Add a secret
        </button>
      </fieldset>
      <div className="field">
        <label htmlFor="tool-schema">Input schema (JSON Schema of the arguments)</label>
        <textarea
          id="tool-schema"
          className="textarea mono"
          rows={3}
          value={inputSchema}
          onChange={(e) => setInputSchema(e.target.value)}
        />
      </div>
      <label className="inline-field">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      <div className="actions">
        <button type="submit" className="button button--primary" disabled={busy || !name.trim()} data-testid="tool-save">
          {busy ? "Saving…" : tool ? "Save" : "Create"}
        </button>
        {tool &&
          (confirming ? (
            <button type="button" className="button button--danger" onClick={() => void remove()} data-testid="tool-confirm-delete">
              Delete for good
            </button>
          ) : (
            <button type="button" className="button" onClick={() => setConfirming(true)} data-testid="tool-delete">
              Delete
            </button>
          ))}
      </div>
    </form>
  );
}

function ToolTester({ tool }: { tool: Tool }) {
  const [args, setArgs] = useState("{}");
  const [result, setResult] = useState<Load<{ result: JsonObject; elapsed: string }>>();

  const run = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseObject(args, "The arguments");
    if (typeof parsed === "string") return setResult({ status: "error", message: parsed });
    setResult({ status: "loading" });
    try {
      const answer = await ToolService.executeTool({ toolId: tool.id ?? "", arguments: parsed });
      setResult({ status: "ready", value: { result: answer.result ?? {}, elapsed: answer.elapsed ?? "" } });
    } catch (failure) {
      setResult({ status: "error", message: describeError(failure) });
    }
  };

  return (
    <form className="inspector__detail" onSubmit={(e) => void run(e)} data-testid="tool-tester">
      <h2>Test {tool.name}</h2>
      <div className="field">
        <label htmlFor="tool-args">Arguments (JSON)</label>
        <textarea
          id="tool-args"
          className="textarea mono"
          rows={3}
          value={args}
          onChange={(e) => setArgs(e.target.value)}
          data-testid="tool-args"
        />
      </div>
      <div className="actions">
        <button type="submit" className="button" disabled={result?.status === "loading"} data-testid="tool-run">
          Run the tool
        </button>
      </div>
      {result?.status === "loading" && <Spinner label="Running…" />}
      {result?.status === "error" && <ErrorAlert message={result.message} />}
      {result?.status === "ready" && (
        <>
          <p className="status-line">Answered in {result.value.elapsed}</p>
          <pre className="state" data-testid="tool-result">
            {JSON.stringify(result.value.result, null, 2)}
          </pre>
        </>
      )}
    </form>
  );
}
