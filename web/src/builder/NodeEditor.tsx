// The side panel's form for one node, generated from the engine's schema of its kind
// (schema.generated.ts): a field per schema field, edited by its FieldKind; the common fields
// (next, retry, timeout_ms, wait_for) below. Templates offer the state channels as completions;
// tool fields list the tenant's tools; expressions show the validator's errors as you type.
import { useEffect, useRef, useState } from "react";
import type { KeyboardEvent } from "react";
import { channelNames, channelsAt, kindsByName } from "./flow";
import type { FlowDoc, FlowNode, Json, JsonObject } from "./flow";
import { flowSchema } from "./schema.generated";
import type { FieldSchema } from "./schemaTypes";

/** A validator issue placed in the form: the JSON path below the node (`routes[0].when`). */
export interface FieldIssue {
  path: string;
  message: string;
  warning: boolean;
}

interface NodeEditorProps {
  doc: FlowDoc;
  node: FlowNode;
  /** The node's index in the document (the issues' paths use it). */
  issues: FieldIssue[];
  tools: string[];
  readOnly: boolean;
  /** A field changed: `key` within the node (undefined: removed); `typing` marks keystrokes in one field. */
  onField(key: string, value: Json | undefined, typing?: string): void;
  onRename(to: string): string | undefined;
  onEntry(): void;
}

export function NodeEditor({ doc, node, issues, tools, readOnly, onField, onRename, onEntry }: NodeEditorProps) {
  const kind = kindsByName.get(node.kind);
  const channels = channelNames(doc);
  const ids = doc.nodes.map((other) => other.id).filter((id) => id !== node.id);
  const available = channelsAt(doc, node.id);
  const completions = ["{{input}}", ...[...available.upstream, ...available.others].map((name) => `{{state.${name}}}`)];
  const context: FieldContext = { channels, ids, tools, readOnly, issues, state: doc.state ?? {}, completions, upstream: available.upstream };
  const common = flowSchema.commonFields.filter((field) => !(kind?.choosesSuccessors && field.key === "next"));
  const editorOf = (field: FieldSchema) => (
    <FieldEditor
      key={field.key}
      field={field}
      path={field.key}
      value={node[field.key]}
      context={context}
      onChange={(value, typing) => onField(field.key, value, typing ? `${node.id}.${field.key}` : undefined)}
    />
  );
  return (
    <section className="node-editor" aria-label={`Node ${node.id}`} data-testid="node-editor">
      <h2 className="node-editor__title">
        {node.id} <span className="badge">{node.kind}</span>
      </h2>
      {kind && <p className="node-editor__summary">{kind.summary}</p>}
      <IdField id={node.id} readOnly={readOnly} onRename={onRename} />
      {doc.entry === node.id ? (
        <p className="node-editor__entry">The run starts here.</p>
      ) : (
        !readOnly && (
          <button type="button" className="button button--small" onClick={onEntry} data-testid="make-entry">
            Start the run here
          </button>
        )
      )}
      {!kind && <p role="alert">Unknown kind “{node.kind}”: edit it in the JSON view.</p>}
      {kind?.fields.map(editorOf)}
      <details className="node-editor__common" open={common.some((field) => node[field.key] !== undefined)}>
        <summary>Edges, retry and timeout</summary>
        {common.map(editorOf)}
      </details>
    </section>
  );
}

function IdField({ id, readOnly, onRename }: { id: string; readOnly: boolean; onRename(to: string): string | undefined }) {
  const [text, setText] = useState(id);
  const [error, setError] = useState<string>();
  useEffect(() => {
    setText(id);
    setError(undefined);
  }, [id]);
  const apply = () => {
    if (text === id) return;
    const refused = onRename(text.trim());
    setError(refused);
    if (refused) setText(id);
  };
  return (
    <div className="field">
      <label htmlFor="node-id">Id</label>
      <input
        id="node-id"
        className="input mono"
        value={text}
        readOnly={readOnly}
        data-testid="field-id"
        onChange={(event) => setText(event.target.value)}
        onBlur={apply}
        onKeyDown={(event) => {
          if (event.key === "Enter") apply();
        }}
      />
      {error && <p className="field__error">{error}</p>}
    </div>
  );
}

interface FieldContext {
  channels: string[];
  ids: string[];
  tools: string[];
  readOnly: boolean;
  issues: FieldIssue[];
  state: { [channel: string]: JsonObject };
  /** What templates offer, in order: `{{input}}`, the channels written upstream, the others. */
  completions?: string[];
  upstream?: string[];
}

interface FieldEditorProps {
  field: FieldSchema;
  /** The path below the node (`retry.max_attempts`, `routes[0].when`): ids and issues. */
  path: string;
  value: Json | undefined;
  context: FieldContext;
  onChange(value: Json | undefined, typing?: boolean): void;
}

function fieldId(path: string): string {
  return `field-${path.replace(/[^A-Za-z0-9_]+/g, "-")}`;
}

/** One field, edited as its kind says. An emptied field is removed from the node. */
export function FieldEditor({ field, path, value, context, onChange }: FieldEditorProps) {
  const id = fieldId(path);
  const own = context.issues.filter((issue) => issue.path === path || issue.path.startsWith(`${path}.`));
  const label = (
    <label htmlFor={id}>
      {field.key}
      {field.required && <span aria-hidden="true"> *</span>}
    </label>
  );
  const help = <p className="field__help">{field.help}</p>;
  const problems = own.length > 0 && (
    <ul className="field__issues" data-testid={`issues-${id}`}>
      {own.map((issue) => (
        <li key={`${issue.path}:${issue.message}`} className={issue.warning ? "field__warning" : "field__error"} role="alert">
          {issue.message}
        </li>
      ))}
    </ul>
  );
  const ro = context.readOnly;
  switch (field.kind) {
    case "template":
      return (
        <div className="field">
          {label}
          <TemplateInput
            id={id}
            value={typeof value === "string" ? value : ""}
            completions={context.completions ?? context.channels.map((name) => (name === "input" ? "{{input}}" : `{{state.${name}}}`))}
            upstream={context.upstream ?? []}
            readOnly={ro}
            onChange={onChange}
          />
          {help}
          {problems}
        </div>
      );
    case "expression":
    case "text":
      return (
        <div className="field">
          {label}
          <input
            id={id}
            className={`input${field.kind === "expression" ? " mono" : ""}`}
            value={typeof value === "string" ? value : ""}
            readOnly={ro}
            data-testid={id}
            aria-invalid={own.some((issue) => !issue.warning)}
            onChange={(event) => onChange(event.target.value === "" && !field.required ? undefined : event.target.value, true)}
          />
          {help}
          {problems}
        </div>
      );
    case "channel":
    case "node":
    case "choice": {
      const options =
        field.kind === "channel"
          ? context.channels.filter((name) => name !== "input" && channelFits(context.state[name] ?? (name === "answer" ? { type: "string" } : undefined), field.channelTypes))
          : field.kind === "node"
            ? context.ids
            : (field.choices ?? []);
      const current = typeof value === "string" ? value : "";
      return (
        <div className="field">
          {label}
          <select
            id={id}
            className="select"
            value={current}
            disabled={ro}
            data-testid={id}
            onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)}
          >
            <option value="">{field.defaultJSON ? `(default: ${JSON.parse(field.defaultJSON) as string})` : "(none)"}</option>
            {current && !options.includes(current) && <option value={current}>{current} (unknown)</option>}
            {options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
          {help}
          {problems}
        </div>
      );
    }
    case "tool":
      return (
        <div className="field">
          {label}
          <input
            id={id}
            className="input"
            list={`${id}-tools`}
            value={typeof value === "string" ? value : ""}
            readOnly={ro}
            data-testid={id}
            onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value, true)}
          />
          <datalist id={`${id}-tools`}>
            {context.tools.map((tool) => (
              <option key={tool} value={tool} />
            ))}
          </datalist>
          {help}
          {problems}
        </div>
      );
    case "number":
      return (
        <div className="field">
          {label}
          <input
            id={id}
            className="input"
            type="number"
            min={field.minimum}
            max={field.maximum}
            placeholder={field.defaultJSON ?? ""}
            value={typeof value === "number" ? String(value) : ""}
            readOnly={ro}
            data-testid={id}
            onChange={(event) => onChange(event.target.value === "" ? undefined : Number(event.target.value), true)}
          />
          {help}
          {problems}
        </div>
      );
    case "bool":
      return (
        <div className="field field--check">
          <input
            id={id}
            type="checkbox"
            checked={typeof value === "boolean" ? value : field.defaultJSON === "true"}
            disabled={ro}
            data-testid={id}
            onChange={(event) => onChange(event.target.checked)}
          />
          {label}
          {help}
          {problems}
        </div>
      );
    case "choices":
    case "nodes": {
      const options = field.kind === "nodes" ? context.ids : (field.choices ?? []);
      const list = Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : typeof value === "string" ? [value] : [];
      const defaults = field.defaultJSON ? (JSON.parse(field.defaultJSON) as string[]) : [];
      const shown = value === undefined ? defaults : list;
      return (
        <fieldset className="field field--choices" data-testid={id}>
          <legend>{field.key}</legend>
          {options.length === 0 && <p className="field__help">No other nodes yet.</p>}
          {options.map((option) => (
            <label key={option} className="field__choice">
              <input
                type="checkbox"
                checked={shown.includes(option)}
                disabled={ro}
                data-testid={`${id}-${option}`}
                onChange={(event) => {
                  const next = event.target.checked ? [...shown, option] : shown.filter((item) => item !== option);
                  if (next.length === 0) onChange(field.kind === "choices" ? [] : undefined);
                  else if (field.key === "next" && next.length === 1) onChange(next[0]!);
                  else onChange(next);
                }}
              />
              {option}
            </label>
          ))}
          {help}
          {problems}
        </fieldset>
      );
    }
    case "strings":
      return (
        <div className="field">
          {label}
          <textarea
            id={id}
            className="textarea"
            rows={3}
            value={Array.isArray(value) ? value.join("\n") : ""}
            readOnly={ro}
            data-testid={id}
            onChange={(event) => {
              const lines = event.target.value.split("\n");
              onChange(event.target.value === "" ? undefined : lines, true);
            }}
          />
          <p className="field__help">{field.help} One per line.</p>
          {problems}
        </div>
      );
    case "templateObject":
    case "channelValues":
    case "json":
      return (
        <div className="field">
          {label}
          <JsonInput id={id} value={value} objectOnly={field.kind !== "json"} readOnly={ro} onChange={(v) => onChange(v, true)} />
          {help}
          {problems}
        </div>
      );
    case "list": {
      const items = Array.isArray(value) ? value : [];
      const itemFields = field.fields ?? [];
      return (
        <fieldset className="field field--list" data-testid={id}>
          <legend>
            {field.key}
            {field.required && <span aria-hidden="true"> *</span>}
          </legend>
          {items.map((item, index) => {
            const object = typeof item === "object" && item !== null && !Array.isArray(item) ? item : {};
            return (
              <div key={index} className="field__item" data-testid={`${id}-${index}`}>
                {itemFields.map((sub) => (
                  <FieldEditor
                    key={sub.key}
                    field={sub}
                    path={`${path}[${index}].${sub.key}`}
                    value={object[sub.key]}
                    context={context}
                    onChange={(subValue, typing) => {
                      const updated: JsonObject = { ...object };
                      if (subValue === undefined) delete updated[sub.key];
                      else updated[sub.key] = subValue;
                      onChange(items.map((other, position) => (position === index ? updated : other)), typing);
                    }}
                  />
                ))}
                {!ro && (
                  <button
                    type="button"
                    className="button button--small button--ghost"
                    onClick={() => onChange(items.filter((_, position) => position !== index))}
                  >
                    Remove
                  </button>
                )}
              </div>
            );
          })}
          {!ro && (
            <button
              type="button"
              className="button button--small"
              data-testid={`${id}-add`}
              onClick={() => onChange([...items, Object.fromEntries(itemFields.filter((sub) => sub.required).map((sub) => [sub.key, ""]))])}
            >
              Add {field.key === "routes" ? "route" : field.key === "options" ? "option" : "item"}
            </button>
          )}
          {help}
          {problems}
        </fieldset>
      );
    }
    case "object": {
      const object = typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
      return (
        <fieldset className="field field--object" data-testid={id}>
          <legend>
            <label className="field__choice">
              <input
                type="checkbox"
                checked={object !== undefined}
                disabled={ro}
                data-testid={`${id}-on`}
                onChange={(event) => onChange(event.target.checked ? {} : undefined)}
              />
              {field.key}
            </label>
          </legend>
          {help}
          {object &&
            (field.fields ?? []).map((sub) => (
              <FieldEditor
                key={sub.key}
                field={sub}
                path={`${path}.${sub.key}`}
                value={object[sub.key]}
                context={context}
                onChange={(subValue, typing) => {
                  const updated: JsonObject = { ...object };
                  if (subValue === undefined) delete updated[sub.key];
                  else updated[sub.key] = subValue;
                  onChange(updated, typing);
                }}
              />
            ))}
          {problems}
        </fieldset>
      );
    }
  }
}

function channelFits(declaration: JsonObject | undefined, types: string[] | undefined): boolean {
  if (!types || !declaration) return true;
  const type = typeof declaration.type === "string" ? declaration.type : "any";
  const reducer = typeof declaration.reducer === "string" ? declaration.reducer : "overwrite";
  return reducer !== "overwrite" || type === "any" || types.includes(type);
}

/**
 * A template with the channels offered as completions (buttons inserting `{{…}}` at the cursor,
 * or Ctrl+Space): those written upstream of the node first and marked.
 */
function TemplateInput({
  id,
  value,
  completions,
  upstream,
  readOnly,
  onChange,
}: {
  id: string;
  value: string;
  completions: string[];
  upstream: string[];
  readOnly: boolean;
  onChange(value: Json | undefined, typing?: boolean): void;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const insert = (text: string) => {
    const element = area.current;
    const start = element?.selectionStart ?? value.length;
    const end = element?.selectionEnd ?? value.length;
    onChange(value.slice(0, start) + text + value.slice(end));
    requestAnimationFrame(() => {
      element?.focus();
      element?.setSelectionRange(start + text.length, start + text.length);
    });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Ctrl+Space offers the first completion that extends what is typed before the cursor.
    if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      const start = event.currentTarget.selectionStart;
      const before = value.slice(0, start);
      const open = before.lastIndexOf("{{");
      const typed = open >= 0 && !before.slice(open).includes("}}") ? before.slice(open) : "";
      const match = completions.find((completion) => completion.startsWith(typed) && completion !== typed);
      if (match) insert(match.slice(typed.length));
    }
  };
  return (
    <>
      <textarea
        ref={area}
        id={id}
        className="textarea mono"
        rows={3}
        value={value}
        readOnly={readOnly}
        data-testid={id}
        onKeyDown={onKeyDown}
        onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value, true)}
      />
      {!readOnly && (
        <div className="completions" aria-label="Insert a channel">
          {completions.map((completion) => {
            const written = upstream.some((name) => completion === `{{state.${name}}}`);
            return (
              <button
                key={completion}
                type="button"
                className={written ? "completion completion--upstream mono" : "completion mono"}
                title={written ? "written by a node before this one" : undefined}
                onClick={() => insert(completion)}
              >
                {completion}
              </button>
            );
          })}
        </div>
      )}
    </>
  );
}

/** A JSON value typed as text; applied while it parses, the parse error shown otherwise. */
function JsonInput({
  id,
  value,
  objectOnly,
  readOnly,
  onChange,
}: {
  id: string;
  value: Json | undefined;
  objectOnly: boolean;
  readOnly: boolean;
  onChange(value: Json | undefined): void;
}) {
  const shown = value === undefined ? "" : JSON.stringify(value, null, 1);
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string>();
  const last = useRef(value);
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(shown);
      setError(undefined);
    }
  }, [value, shown]);
  return (
    <>
      <textarea
        id={id}
        className="textarea mono"
        rows={4}
        value={text}
        readOnly={readOnly}
        data-testid={id}
        aria-invalid={error !== undefined}
        onChange={(event) => {
          setText(event.target.value);
          if (event.target.value.trim() === "") {
            setError(undefined);
            last.current = undefined;
            onChange(undefined);
            return;
          }
          try {
            const parsed = JSON.parse(event.target.value) as Json;
            if (objectOnly && (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))) {
              setError("Write a JSON object: {\"key\": value}");
              return;
            }
            setError(undefined);
            last.current = parsed;
            onChange(parsed);
          } catch {
            setError("Not valid JSON yet");
          }
        }}
      />
      {error && <p className="field__error">{error}</p>}
    </>
  );
}
