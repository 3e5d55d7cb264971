import { test } from "node:test";
import assert from "node:assert/strict";
import { highlight, queryTerms } from "../src/lib/highlight";

test("query terms: words of two characters or more, once each", () => {
  assert.deepEqual(queryTerms("Reset a PASSWORD, reset!"), ["reset", "password"]);
  assert.deepEqual(queryTerms("  "), []);
});

test("matches are whole words or word prefixes, case-insensitive; the text is kept whole", () => {
  const parts = highlight("Resetting your password: reset it (passwords expire).", "reset password");
  assert.deepEqual(
    parts.filter((p) => p.match).map((p) => p.text),
    ["Resetting", "password", "reset", "passwords"],
  );
  assert.equal(parts.map((p) => p.text).join(""), "Resetting your password: reset it (passwords expire).");
  assert.deepEqual(highlight("preset", "reset"), [{ text: "preset", match: false }]);
});

test("regular-expression characters in the query are plain text", () => {
  assert.deepEqual(highlight("a (b) c++", "(b) c++").filter((p) => p.match).length, 0);
  assert.deepEqual(highlight("", "x"), []);
});
