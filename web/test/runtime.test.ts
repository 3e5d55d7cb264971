// The helpers the generated client calls: query parameters, path segments, the CSRF cookie,
// and the wording of errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, NetworkError, csrfFromCookie, omit, query, segment } from "../src/api/runtime";
import { describeError, describeSignInError } from "../src/lib/errors";

test("query parameters: nested messages with dots, repeated fields repeated, the path's fields left out", () => {
  assert.deepEqual(query({ conversationId: "c", pageSize: 10, page: { token: "t" }, tags: ["a", "b"], gone: undefined }, ["conversationId"]), {
    pageSize: "10",
    "page.token": "t",
    tags: ["a", "b"],
  });
});

test("path segments are %-encoded; a multi-segment variable keeps its slashes", () => {
  assert.equal(segment("a/b c"), "a%2Fb%20c");
  assert.equal(segment("a/b c", true), "a/b%20c");
  assert.equal(segment(undefined), "");
});

test("omit drops the path-bound fields", () => {
  assert.deepEqual(omit({ agentId: "a", name: "n" }, ["agentId"]), { name: "n" });
});

test("the CSRF token is read from its cookie", () => {
  assert.equal(csrfFromCookie("a=1; agentplane_csrf=abc%3D; b=2"), "abc=");
  assert.equal(csrfFromCookie("a=1"), undefined);
});

test("sign-in errors say what happened: wrong password, locked out, busy", () => {
  assert.match(describeSignInError(new ApiError(401, "UNAUTHENTICATED", "x")), /Wrong workspace, email or password/);
  const locked = new ApiError(429, "RESOURCE_EXHAUSTED", "x", { reason: "LOGIN_RATE_LIMITED", retryAfter: "42.5s" });
  assert.match(describeSignInError(locked), /Locked out.*Try again in 43 s/);
  const busy = new ApiError(429, "RESOURCE_EXHAUSTED", "x", { reason: "PASSWORD_HASHING_BUSY" });
  assert.match(describeSignInError(busy), /busy/);
  assert.match(describeSignInError(new NetworkError("offline")), /offline/);
});

test("other errors: an expired session, a refusal, a server message", () => {
  assert.match(describeError(new ApiError(401, "UNAUTHENTICATED", "x")), /session has expired/);
  assert.match(describeError(new ApiError(403, "PERMISSION_DENIED", "x")), /role/);
  assert.equal(describeError(new ApiError(400, "INVALID_ARGUMENT", "content: empty")), "content: empty");
});
