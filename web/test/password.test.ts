// New passwords checked before sending, and the server's refusals in words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../src/api/runtime";
import { describePasswordError, newPasswordProblem } from "../src/lib/password";

test("at least 12 characters and at most 1024 bytes, at and past each bound", () => {
  assert.equal(newPasswordProblem("x".repeat(12), "x".repeat(12)), undefined);
  assert.match(newPasswordProblem("x".repeat(11), "x".repeat(11)) ?? "", /at least 12/);
  assert.equal(newPasswordProblem("x".repeat(1024), "x".repeat(1024)), undefined);
  assert.match(newPasswordProblem("x".repeat(1025), "x".repeat(1025)) ?? "", /at most 1024 bytes/);
  // 12 characters of two bytes each: long enough; 513 of them: too many bytes.
  assert.equal(newPasswordProblem("é".repeat(12), "é".repeat(12)), undefined);
  assert.match(newPasswordProblem("é".repeat(513), "é".repeat(513)) ?? "", /bytes/);
});

test("typed twice alike, and not the current one", () => {
  assert.match(newPasswordProblem("a-new-password", "a-new-passwort") ?? "", /differ/);
  assert.match(newPasswordProblem("the-same-password", "the-same-password", "the-same-password") ?? "", /current one/);
  assert.equal(newPasswordProblem("a-new-password", "a-new-password", "the-old-password"), undefined);
});

test("the server's refusals", () => {
  assert.equal(
    describePasswordError(new ApiError(403, "PERMISSION_DENIED", "wrong", { reason: "WRONG_PASSWORD" })),
    "The current password is wrong.",
  );
  assert.match(
    describePasswordError(new ApiError(429, "RESOURCE_EXHAUSTED", "limited", { reason: "LOGIN_RATE_LIMITED" })),
    /Too many attempts/,
  );
  assert.equal(
    describePasswordError(
      new ApiError(400, "INVALID_ARGUMENT", "bad", {
        violations: [{ field: "new_password", code: "TOO_SHORT", explanation: "new_password must have at least 12 characters" }],
      }),
    ),
    "new password must have at least 12 characters.",
  );
  assert.equal(describePasswordError(new ApiError(403, "PERMISSION_DENIED", "no")), "Your role does not allow this.");
});
