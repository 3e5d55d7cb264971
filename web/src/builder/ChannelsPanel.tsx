// The flow's state channels (`state`): each with its type, reducer and default, from the
// engine's schema of a channel declaration; add and remove.
import { useState } from "react";
import type { FlowDoc, Json, JsonObject } from "./flow";
import { FieldEditor } from "./NodeEditor";
import type { FieldIssue } from "./NodeEditor";
import { flowSchema } from "./schema.generated";

interface ChannelsPanelProps {
  doc: FlowDoc;
  readOnly: boolean;
  issues: { channel: string; issue: FieldIssue }[];
  onChange(name: string, declaration: JsonObject | undefined, typing?: string): void;
  /** The document's own `name` or `description` changed (undefined: removed). */
  onFlowField(key: "name" | "description", value: string | undefined): void;
}

export function ChannelsPanel({ doc, readOnly, issues, onChange, onFlowField }: ChannelsPanelProps) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string>();
  const channels = Object.entries(doc.state ?? {});
  const add = () => {
    const trimmed = name.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) return setError("A channel name is letters, digits and _");
    if (trimmed === "input") return setError("input is the run's input and cannot be declared");
    if (doc.state?.[trimmed]) return setError(`${trimmed} is declared already`);
    setError(undefined);
    setName("");
    onChange(trimmed, { type: "any" });
  };
  return (
    <section className="channels" aria-label="The flow and its state channels" data-testid="channels">
      <h2>The flow</h2>
      {(["name", "description"] as const).map((key) => (
        <div className="field" key={key}>
          <label htmlFor={`flow-${key}`}>Flow {key}</label>
          <input
            id={`flow-${key}`}
            className="input"
            value={typeof doc[key] === "string" ? (doc[key] as string) : ""}
            readOnly={readOnly}
            data-testid={`flow-${key}`}
            onChange={(event) => onFlowField(key, event.target.value === "" ? undefined : event.target.value)}
          />
        </div>
      ))}
      <p className="field__help">Informational: kept in the document, not the agent's name.</p>
      <h2>State channels</h2>
      <p className="field__help">Always there: {flowSchema.builtinChannels.join(", ")}.</p>
      {channels.map(([channel, declaration]) => (
        <fieldset key={channel} className="channels__item" data-testid={`channel-${channel}`}>
          <legend className="mono">{channel}</legend>
          {flowSchema.channelFields.map((field) => (
            <FieldEditor
              key={field.key}
              field={field}
              path={`state.${channel}.${field.key}`}
              value={declaration[field.key]}
              context={{
                channels: [],
                ids: [],
                tools: [],
                readOnly,
                issues: issues.filter((entry) => entry.channel === channel).map((entry) => entry.issue),
                state: {},
              }}
              onChange={(value: Json | undefined, typing?: boolean) => {
                const updated: JsonObject = { ...declaration };
                if (value === undefined) delete updated[field.key];
                else updated[field.key] = value;
                onChange(channel, updated, typing ? `state.${channel}.${field.key}` : undefined);
              }}
            />
          ))}
          {!readOnly && (
            <button type="button" className="button button--small button--ghost" onClick={() => onChange(channel, undefined)}>
              Remove {channel}
            </button>
          )}
        </fieldset>
      ))}
      {!readOnly && (
        <form
          className="channels__add"
          onSubmit={(event) => {
            event.preventDefault();
            add();
          }}
        >
          <label htmlFor="channel-name">New channel</label>
          <input id="channel-name" className="input mono" value={name} onChange={(event) => setName(event.target.value)} data-testid="channel-name" />
          <button type="submit" className="button button--small" data-testid="channel-add">
            Add
          </button>
          {error && <p className="field__error">{error}</p>}
        </form>
      )}
    </section>
  );
}
