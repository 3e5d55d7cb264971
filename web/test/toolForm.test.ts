// A tool kind's schema as form fields, and the fields' texts back into the config.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { JsonObject } from "../src/api/runtime";
import { configFrom, fieldsOf, fromText, secretSlots, textsOf, violationsByField } from "../src/lib/toolForm";

const http: JsonObject = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: { type: "string", title: "URL", format: "uri", maxLength: 2000, propertyOrder: 1 },
    method: { type: "string", title: "Method", enum: ["GET", "POST"], default: "POST", propertyOrder: 2 },
    headers: { type: "object", title: "Headers", additionalProperties: { type: "string" }, propertyOrder: 3 },
    top_k: { type: "integer", title: "Results", minimum: 1, maximum: 50, propertyOrder: 4 },
    score: { type: "number", title: "Score", minimum: 0, maximum: 1, propertyOrder: 5 },
    tags: { type: "array", title: "Tags", items: { type: "string" }, propertyOrder: 6 },
    json_output: { type: "boolean", title: "JSON output", propertyOrder: 7 },
    prompt: { type: "string", title: "Prompt", maxLength: 20000, propertyOrder: 8 },
  },
};

test("every property becomes a field of the right kind, with its bounds and choices", () => {
  const fields = fieldsOf(http);
  assert.deepEqual(
    fields.map((f) => [f.key, f.kind, f.required]),
    [
      ["url", "text", true],
      ["method", "choice", false],
      ["headers", "map", false],
      ["top_k", "integer", false],
      ["score", "number", false],
      ["tags", "list", false],
      ["json_output", "boolean", false],
      ["prompt", "longtext", false],
    ],
  );
  const topK = fields.find((f) => f.key === "top_k");
  assert.equal(topK?.minimum, 1);
  assert.equal(topK?.maximum, 50);
  assert.deepEqual(fields.find((f) => f.key === "method")?.choices, ["GET", "POST"]);
  assert.deepEqual(fieldsOf(undefined), []);
});

test("a stored config round-trips through the fields' texts", () => {
  const fields = fieldsOf(http);
  const stored: JsonObject = {
    url: "https://api.example.com/x",
    method: "GET",
    headers: { Accept: "application/json", "X-Team": "blue" },
    top_k: 5,
    score: 0.5,
    tags: ["a", "b c"],
    json_output: true,
  };
  const texts = textsOf(fields, stored);
  assert.equal(texts["headers"], "Accept: application/json\nX-Team: blue");
  assert.equal(texts["tags"], "a, b c");
  assert.equal(texts["prompt"], "");
  const back = configFrom(fields, texts);
  assert.deepEqual(back.errors, {});
  assert.deepEqual(back.config, stored);
});

test("bounds are checked at and past them; empty optional fields are left out, a required one is not", () => {
  const fields = fieldsOf(http);
  const field = (key: string) => fields.find((f) => f.key === key)!;
  assert.deepEqual(fromText(field("top_k"), "50"), { value: 50 });
  assert.match(fromText(field("top_k"), "51").error ?? "", /at most 50/);
  assert.match(fromText(field("top_k"), "0").error ?? "", /at least 1/);
  assert.match(fromText(field("top_k"), "2.5").error ?? "", /whole number/);
  assert.deepEqual(fromText(field("score"), "0.25"), { value: 0.25 });
  assert.match(fromText(field("score"), "x").error ?? "", /number/);
  assert.match(fromText(field("method"), "PUT").error ?? "", /one of GET, POST/);
  assert.match(fromText(field("url"), "ftp://x").error ?? "", /http\(s\) URL/);
  assert.match(fromText(field("url"), "https://" + "x".repeat(1993)).error ?? "", /at most 2000/);
  assert.deepEqual(fromText(field("url"), "https://" + "x".repeat(1992)), { value: "https://" + "x".repeat(1992) });
  assert.match(fromText(field("headers"), "no colon here").error ?? "", /Name: value/);
  const empty = configFrom(fields, {});
  assert.deepEqual(Object.keys(empty.errors), ["url"]);
  assert.deepEqual(empty.config, {});
});

test("fields follow the schema's propertyOrder, unnumbered ones after them by name", () => {
  const fields = fieldsOf({
    properties: {
      zeta: { type: "string" },
      url: { type: "string", propertyOrder: 1 },
      alpha: { type: "string" },
      method: { type: "string", propertyOrder: 2 },
    },
  });
  assert.deepEqual(
    fields.map((f) => f.key),
    ["url", "method", "alpha", "zeta"],
  );
});

test("secret slots: the named ones, and whether any name may be added", () => {
  assert.deepEqual(
    secretSlots({ properties: { api_token: { type: "string", title: "API token", writeOnly: true } }, additionalProperties: false }),
    { named: [{ name: "api_token", title: "API token", description: "" }], anyName: false },
  );
  assert.deepEqual(secretSlots({ properties: {}, additionalProperties: true }), { named: [], anyName: true });
});

test("the server's violations by field, the first one of each", () => {
  assert.deepEqual(
    violationsByField({
      violations: [
        { field: "config.url", code: "INVALID_URL", explanation: "config.url must be an http(s) URL" },
        { field: "config.url", code: "TOO_LONG", explanation: "second" },
        { field: "secrets.url", code: "MISSING_SECRET", explanation: "needs secrets.url" },
      ],
    }),
    { "config.url": "config.url must be an http(s) URL", "secrets.url": "needs secrets.url" },
  );
  assert.deepEqual(violationsByField(undefined), {});
});
