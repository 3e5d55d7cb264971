// One field of a form built from a JSON Schema (lib/toolForm.ts): tool configs by kind, and the
// structured answer an interrupt asks for.
import type { FormField } from "../lib/toolForm";

/** One field of a JSON Schema form, as its kind asks: a choice, a number, a checkbox, a list, lines of "Name: value", text. */
export function SchemaField(props: {
  field: FormField;
  text: string;
  error: string | undefined;
  onChange: (text: string) => void;
  idPrefix?: string;
}) {
  const { field, text, onChange } = props;
  const id = `${props.idPrefix ?? "config"}-${field.key}`;
  const hint = [
    field.description,
    field.minimum !== undefined && field.maximum !== undefined ? `${field.minimum}–${field.maximum}.` : "",
    field.defaultValue !== undefined ? `Default: ${String(field.defaultValue)}.` : "",
  ]
    .filter(Boolean)
    .join(" ");
  let control;
  switch (field.kind) {
    case "choice":
      control = (
        <select id={id} className="select" value={text} onChange={(e) => onChange(e.target.value)} data-testid={id}>
          {!field.required && <option value="">(default)</option>}
          {field.choices.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      );
      break;
    case "boolean":
      control = (
        <input
          id={id}
          type="checkbox"
          checked={text === "true"}
          onChange={(e) => onChange(e.target.checked ? "true" : "")}
          data-testid={id}
        />
      );
      break;
    case "map":
    case "longtext":
      control = (
        <textarea
          id={id}
          className="textarea mono"
          rows={3}
          placeholder={field.kind === "map" ? "Name: value (one per line)" : ""}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          data-testid={id}
        />
      );
      break;
    default:
      control = (
        <input
          id={id}
          className="input"
          inputMode={field.kind === "integer" || field.kind === "number" ? "decimal" : undefined}
          placeholder={field.kind === "list" ? "comma, separated" : field.format === "uri" ? "https://…" : ""}
          value={text}
          onChange={(e) => onChange(e.target.value)}
          data-testid={id}
        />
      );
  }
  return (
    <div className="field">
      <label htmlFor={id}>
        {field.title}
        {field.required ? " (required)" : ""}
      </label>
      {control}
      {props.error && <span className="field__error">{props.error}</span>}
      {hint && <span className="field__hint">{hint}</span>}
    </div>
  );
}

