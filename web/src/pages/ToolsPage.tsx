// Tools (builder or above): the list; create and edit a tool with a form built from its kind's
// JSON Schema (ToolService.ListToolKinds, the schema the server validates saves against; the
// server's field violations shown beside each field), secrets write-only (shown as set / not set,
// never read back); test a tool with sample arguments (ExecuteTool) and see the result.
import { useCallback, useEffect, useState } from "react";
import type { FormEvent } from "react";
import { ToolService } from "../api/generated";
import type { Tool, ToolKind, ToolKindSchema } from "../api/generated";
import { ApiError } from "../api/runtime";
import type { JsonObject } from "../api/runtime";
import { describeError } from "../lib/errors";
import { configFrom, fieldsOf, secretSlots, textsOf, violationsByField } from "../lib/toolForm";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";
import { SchemaField } from "../ui/SchemaField";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

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
  const [kinds, setKinds] = useState<Load<ToolKindSchema[]>>({ status: "loading" });

  const loadKinds = useCallback(async () => {
    try {
      const answer = await ToolService.listToolKinds({});
      setKinds({ status: "ready", value: answer.kinds ?? [] });
    } catch (failure) {
      setKinds({ status: "error", message: describeError(failure) });
    }
  }, []);

  useEffect(() => {
    void loadKinds();
  }, [loadKinds]);

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
      {selected && kinds.status === "loading" && <Spinner label="Loading the tool kinds…" />}
      {selected && kinds.status === "error" && <ErrorAlert message={kinds.message} onRetry={() => void loadKinds()} />}
      {selected && kinds.status === "ready" && (
        <ToolEditor
          kinds={kinds.value}
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

function ToolEditor(props: {
  kinds: ToolKindSchema[];
  tool: Tool | undefined;
  onSaved: (tool: Tool) => void;
  onDeleted: () => void;
}) {
  const { tool, onSaved, kinds } = props;
  const [confirming, setConfirming] = useState(false);
  const [name, setName] = useState(tool?.name ?? "");
  const [description, setDescription] = useState(tool?.description ?? "");
  const [kind, setKind] = useState<ToolKind>(tool?.kind ?? "TOOL_KIND_HTTP");
  const schema = kinds.find((k) => k.kind === kind);
  const fields = fieldsOf(schema?.configSchema);
  const slots = secretSlots(schema?.secretsSchema);
  // The config as one text per field; switching kinds starts from the new kind's empty form.
  const [texts, setTexts] = useState<Record<string, string>>(() => textsOf(fields, tool?.config));
  const [inputSchema, setInputSchema] = useState(JSON.stringify(tool?.inputSchema ?? {}, null, 2));
  const [enabled, setEnabled] = useState(tool?.enabled ?? true);
  // Secrets: the kind's named ones, plus (for kinds taking any name) the stored others and new
  // ones typed here. Values never come back from the server: blank keeps what is stored.
  const stored = new Set(tool?.secretNames ?? []);
  const [named, setNamed] = useState<Record<string, string>>({});
  const [removed, setRemoved] = useState<Set<string>>(new Set());
  const [extra, setExtra] = useState<{ name: string; value: string }[]>(
    (tool?.secretNames ?? []).filter((n) => !slots.named.some((s) => s.name === n)).map((n) => ({ name: n, value: "" })),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);

  const changeKind = (next: ToolKind) => {
    setKind(next);
    setTexts(textsOf(fieldsOf(kinds.find((k) => k.kind === next)?.configSchema), undefined));
    setNamed({});
    setExtra([]);
    setFieldErrors({});
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    const { config, errors } = configFrom(fields, texts);
    const parsedSchema = parseObject(inputSchema, "The input schema");
    setFieldErrors(Object.fromEntries(Object.entries(errors).map(([key, text]) => [`config.${key}`, text])));
    if (Object.keys(errors).length > 0) return setError("Some settings need fixing (see below).");
    if (typeof parsedSchema === "string") return setError(parsedSchema);
    const secrets: Record<string, string> = {};
    for (const [secretName, value] of Object.entries(named)) if (value) secrets[secretName] = value;
    for (const entry of extra) if (entry.name.trim() && entry.value) secrets[entry.name.trim()] = entry.value;
    // An empty value deletes a stored secret (UpdateTool merges secrets).
    for (const secretName of removed) if (!(secretName in secrets)) secrets[secretName] = "";
    setBusy(true);
    try {
      const body = {
        name: name.trim(),
        description,
        config,
        inputSchema: parsedSchema,
        enabled,
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      };
      const answer = tool
        ? await ToolService.updateTool({ toolId: tool.id ?? "", expectedRevision: tool.revision ?? "", ...body })
        : await ToolService.createTool({ kind, ...body });
      setNamed({});
      setRemoved(new Set());
      setExtra((list) => list.map((s) => ({ ...s, value: "" })));
      setFieldErrors({});
      setSaved(true);
      if (answer.tool) onSaved(answer.tool);
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      if (failure instanceof ApiError) setFieldErrors(violationsByField(failure.details));
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

  const secretState = (secretName: string) =>
    removed.has(secretName) ? "removed on save" : stored.has(secretName) ? "set" : "not set";

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
          {fieldErrors["name"] && <span className="field__error">{fieldErrors["name"]}</span>}
        </div>
        <div className="field">
          <label htmlFor="tool-kind">Kind</label>
          <select
            id="tool-kind"
            className="select"
            value={kind}
            disabled={tool !== undefined}
            onChange={(e) => changeKind(e.target.value as ToolKind)}
            data-testid="tool-kind"
          >
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {kindName(k.kind)}
              </option>
            ))}
          </select>
          {schema?.description && <span className="field__hint">{schema.description}</span>}
        </div>
      </div>
      <div className="field">
        <label htmlFor="tool-description">Description</label>
        <input id="tool-description" className="input" value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <fieldset className="secrets" data-testid="tool-config">
        <legend>Settings ({schema?.title ?? kindName(kind)})</legend>
        <div className="form-grid">
          {fields.map((field) => (
            <SchemaField
              key={`${kind}-${field.key}`}
              field={field}
              text={texts[field.key] ?? ""}
              error={fieldErrors[`config.${field.key}`]}
              onChange={(text) => setTexts((all) => ({ ...all, [field.key]: text }))}
            />
          ))}
        </div>
      </fieldset>
      <fieldset className="secrets">
        <legend>Secrets (write-only: stored encrypted, never shown again)</legend>
        {slots.named.length === 0 && !slots.anyName && <p className="status-line">This kind takes no secrets.</p>}
        {slots.named.map((slot) => (
          <div className="secrets__row" key={slot.name}>
            <label htmlFor={`secret-${slot.name}`}>{slot.title}</label>
            <input
              id={`secret-${slot.name}`}
              className="input"
              type="password"
              autoComplete="off"
              placeholder={stored.has(slot.name) ? "set (type to replace)" : "value"}
              value={named[slot.name] ?? ""}
              onChange={(e) => setNamed((all) => ({ ...all, [slot.name]: e.target.value }))}
              data-testid="secret-value"
              data-secret={slot.name}
            />
            <span className="status-line" data-testid="secret-state">
              {secretState(slot.name)}
            </span>
            {stored.has(slot.name) && <RemoveSecret name={slot.name} removed={removed} onChange={setRemoved} />}
            {fieldErrors[`secrets.${slot.name}`] && <span className="field__error">{fieldErrors[`secrets.${slot.name}`]}</span>}
            {slot.description && <span className="field__hint">{slot.description}</span>}
          </div>
        ))}
        {slots.anyName &&
          extra.map((secret, index) => {
            const isStored = stored.has(secret.name);
            return (
              <div className="secrets__row" key={index}>
                <input
                  className="input"
                  aria-label="Secret name"
                  placeholder="Name, e.g. Authorization"
                  value={secret.name}
                  readOnly={isStored}
                  onChange={(e) => setExtra((list) => list.map((s, i) => (i === index ? { ...s, name: e.target.value } : s)))}
                  data-testid="secret-name"
                />
                <input
                  className="input"
                  type="password"
                  autoComplete="off"
                  aria-label={`Value of ${secret.name || "the secret"}`}
                  placeholder={isStored ? "set (type to replace)" : "value"}
                  value={secret.value}
                  onChange={(e) => setExtra((list) => list.map((s, i) => (i === index ? { ...s, value: e.target.value } : s)))}
                  data-testid="secret-value"
                />
                <span className="status-line" data-testid="secret-state">
                  {secretState(secret.name)}
                </span>
                {isStored && <RemoveSecret name={secret.name} removed={removed} onChange={setRemoved} />}
                {fieldErrors[`secrets.${secret.name}`] && (
                  <span className="field__error">{fieldErrors[`secrets.${secret.name}`]}</span>
                )}
              </div>
            );
          })}
        {slots.anyName && (
          <button
            type="button"
            className="button button--small"
            onClick={() => setExtra((list) => [...list, { name: "", value: "" }])}
            data-testid="secret-add"
          >
            Add a secret
          </button>
        )}
        {schema?.secretsSchema?.["description"] && typeof schema.secretsSchema["description"] === "string" && (
          <p className="field__hint">{schema.secretsSchema["description"]}</p>
        )}
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

/** A "remove" box for a stored secret: saving then deletes it. */
function RemoveSecret(props: { name: string; removed: Set<string>; onChange: (removed: Set<string>) => void }) {
  return (
    <label className="inline-field">
      <input
        type="checkbox"
        checked={props.removed.has(props.name)}
        onChange={(e) => {
          const next = new Set(props.removed);
          if (e.target.checked) next.add(props.name);
          else next.delete(props.name);
          props.onChange(next);
        }}
        data-testid="secret-remove"
      />{" "}
      Remove
    </label>
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
