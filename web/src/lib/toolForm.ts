// A tool kind's JSON Schema (ToolService.ListToolKinds) as form fields: one per config property,
// in the schema's order, each edited as text and turned back into the config's JSON value. The
// server validates saves against the same schema; the checks here only spare a round trip.
import type { JsonObject, JsonValue } from "../api/runtime";

export type FieldKind = "text" | "longtext" | "choice" | "integer" | "number" | "boolean" | "list" | "map";

/** One config property as a form field. */
export interface FormField {
  key: string;
  title: string;
  description: string;
  kind: FieldKind;
  required: boolean;
  choices: string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  defaultValue?: JsonValue;
  format?: string;
}

function object(value: JsonValue | undefined): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
}

function number(value: JsonValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

/**
 * A schema's properties in the order its `propertyOrder` values give (JSON objects keep none;
 * the server numbers them), the others after them by name.
 */
function orderedProperties(schema: JsonObject | undefined): [string, JsonValue][] {
  const place = (value: JsonValue) => number(object(value)?.["propertyOrder"]) ?? Number.MAX_SAFE_INTEGER;
  return Object.entries(object(schema?.["properties"]) ?? {}).sort(
    ([a, x], [b, y]) => place(x) - place(y) || (a < b ? -1 : a > b ? 1 : 0),
  );
}

/** The form fields of a config schema (none without one), in the schema's order. */
export function fieldsOf(schema: JsonObject | undefined): FormField[] {
  const required = new Set(
    (Array.isArray(schema?.["required"]) ? (schema?.["required"] as JsonValue[]) : []).filter(
      (name): name is string => typeof name === "string",
    ),
  );
  return orderedProperties(schema).map(([key, raw]) => {
    const property = object(raw) ?? {};
    const type = property["type"];
    const choices = Array.isArray(property["enum"])
      ? property["enum"].filter((choice): choice is string => typeof choice === "string")
      : [];
    const maxLength = number(property["maxLength"]);
    let kind: FieldKind = "text";
    if (choices.length > 0) kind = "choice";
    else if (type === "integer") kind = "integer";
    else if (type === "number") kind = "number";
    else if (type === "boolean") kind = "boolean";
    else if (type === "array") kind = "list";
    else if (type === "object") kind = "map";
    else if (maxLength !== undefined && maxLength > 2000) kind = "longtext";
    const field: FormField = {
      key,
      title: typeof property["title"] === "string" ? property["title"] : key,
      description: typeof property["description"] === "string" ? property["description"] : "",
      kind,
      required: required.has(key),
      choices,
    };
    const minimum = number(property["minimum"]);
    const maximum = number(property["maximum"]);
    if (minimum !== undefined) field.minimum = minimum;
    if (maximum !== undefined) field.maximum = maximum;
    if (maxLength !== undefined) field.maxLength = maxLength;
    if (property["default"] !== undefined) field.defaultValue = property["default"];
    if (typeof property["format"] === "string") field.format = property["format"];
    return field;
  });
}

/** A config value as the text its field shows ("" when unset). */
export function toText(field: FormField, value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "";
  switch (field.kind) {
    case "list":
      return Array.isArray(value) ? value.map((item) => String(item)).join(", ") : "";
    case "map": {
      const members = object(value) ?? {};
      return Object.entries(members)
        .map(([name, item]) => `${name}: ${String(item)}`)
        .join("\n");
    }
    case "boolean":
      return value === true ? "true" : "false";
    default:
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

/** A field's text as its config value: undefined when left empty, or the reason it is not one. */
export function fromText(field: FormField, text: string): { value?: JsonValue; error?: string } {
  const trimmed = text.trim();
  if (trimmed === "") return field.required ? { error: `${field.title} is required.` } : {};
  switch (field.kind) {
    case "integer":
    case "number": {
      const value = Number(trimmed);
      if (!Number.isFinite(value)) return { error: `${field.title} must be a number.` };
      if (field.kind === "integer" && !Number.isInteger(value)) return { error: `${field.title} must be a whole number.` };
      if (field.minimum !== undefined && value < field.minimum) {
        return { error: `${field.title} must be at least ${field.minimum}.` };
      }
      if (field.maximum !== undefined && value > field.maximum) {
        return { error: `${field.title} must be at most ${field.maximum}.` };
      }
      return { value };
    }
    case "boolean":
      return { value: trimmed === "true" };
    case "list":
      return {
        value: trimmed
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== ""),
      };
    case "map": {
      const members: JsonObject = {};
      for (const line of trimmed.split("\n")) {
        if (!line.trim()) continue;
        const colon = line.indexOf(":");
        if (colon <= 0) return { error: `${field.title}: write one "Name: value" per line.` };
        members[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      return { value: members };
    }
    case "choice":
      if (!field.choices.includes(trimmed)) return { error: `${field.title} must be one of ${field.choices.join(", ")}.` };
      return { value: trimmed };
    default:
      if (field.maxLength !== undefined && Array.from(text).length > field.maxLength) {
        return { error: `${field.title} may have at most ${field.maxLength} characters.` };
      }
      if (field.format === "uri" && !/^https?:\/\/[^\s/]+/i.test(trimmed)) {
        return { error: `${field.title} must be an http(s) URL.` };
      }
      return { value: trimmed };
  }
}

/** Every field's text as the config, or the problems by field key. */
export function configFrom(
  fields: FormField[],
  texts: Record<string, string>,
): { config: JsonObject; errors: Record<string, string> } {
  const config: JsonObject = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const parsed = fromText(field, texts[field.key] ?? "");
    if (parsed.error) errors[field.key] = parsed.error;
    else if (parsed.value !== undefined) config[field.key] = parsed.value;
  }
  return { config, errors };
}

/** The texts of a stored config, field by field. */
export function textsOf(fields: FormField[], config: JsonObject | undefined): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [field.key, toText(field, config?.[field.key])]));
}

/** The secrets a kind takes: the named ones (with their titles) and whether any other name may be added. */
export function secretSlots(schema: JsonObject | undefined): {
  named: { name: string; title: string; description: string }[];
  anyName: boolean;
} {
  return {
    named: orderedProperties(schema).map(([name, raw]) => {
      const property = object(raw) ?? {};
      return {
        name,
        title: typeof property["title"] === "string" ? property["title"] : name,
        description: typeof property["description"] === "string" ? property["description"] : "",
      };
    }),
    anyName: schema?.["additionalProperties"] === true,
  };
}

/** The server's field violations (`config.url`, `secrets.url`) by field path, to show beside each field. */
export function violationsByField(details: JsonObject | undefined): Record<string, string> {
  const found: Record<string, string> = {};
  const violations = details?.["violations"];
  if (!Array.isArray(violations)) return found;
  for (const raw of violations) {
    const violation = object(raw);
    const field = violation?.["field"];
    const explanation = violation?.["explanation"];
    if (typeof field === "string" && typeof explanation === "string" && !(field in found)) found[field] = explanation;
  }
  return found;
}
