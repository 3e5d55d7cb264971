// The session as the runtime keeps it: the CSRF token echoed on unsafe methods only, one refresh
// on a 401 (shared by concurrent calls) and the call again, the app told when the refresh fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, call, onSessionExpired, setCsrfToken } from "../src/api/runtime";

interface Seen {
  method: string;
  url: string;
  csrf: string | null;
}

/** Replaces fetch with a fake that records each request and answers from `answer`. */
function fakeFetch(answer: (request: Seen, count: number) => { status: number; body: unknown }): Seen[] {
  const seen: Seen[] = [];
  (globalThis as { fetch: unknown }).fetch = async (input: string, init: RequestInit) => {
    const request = { method: init.method ?? "GET", url: input, csrf: new Headers(init.headers).get("X-CSRF-Token") };
    seen.push(request);
    const { status, body } = answer(request, seen.length);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
  return seen;
}

const unauthenticated = { status: 401, body: { code: "UNAUTHENTICATED", message: "token expired" } };

test("the CSRF token goes with unsafe methods only", async () => {
  setCsrfToken("c1");
  const seen = fakeFetch(() => ({ status: 200, body: {} }));
  await call("GET", "/v1/agents", undefined, undefined);
  await call("POST", "/v1/conversations", undefined, { agentId: "a" });
  assert.deepEqual(
    seen.map((s) => [s.method, s.csrf]),
    [
      ["GET", null],
      ["POST", "c1"],
    ],
  );
});

test("a 401 refreshes the session once and calls again with the new CSRF token", async () => {
  setCsrfToken("old");
  let refreshed = false;
  const seen = fakeFetch((request) => {
    if (request.url === "/v1/auth/refresh") {
      refreshed = true;
      return { status: 200, body: { csrfToken: "new" } };
    }
    return refreshed ? { status: 200, body: { ok: request.url } } : unauthenticated;
  });
  const answers = await Promise.all([
    call<{ ok: string }>("POST", "/v1/conversations", undefined, {}),
    call<{ ok: string }>("GET", "/v1/agents", undefined, undefined),
  ]);
  assert.deepEqual(answers, [{ ok: "/v1/conversations" }, { ok: "/v1/agents" }]);
  const refreshes = seen.filter((s) => s.url === "/v1/auth/refresh");
  assert.equal(refreshes.length, 1, "concurrent 401s share one refresh");
  assert.equal(refreshes[0]!.csrf, "old");
  const retriedPost = seen.filter((s) => s.url === "/v1/conversations");
  assert.deepEqual(
    retriedPost.map((s) => s.csrf),
    ["old", "new"],
  );
});

test("when the refresh fails the app is told, and the call fails with UNAUTHENTICATED", async () => {
  setCsrfToken("old");
  let expired = 0;
  onSessionExpired(() => (expired += 1));
  fakeFetch(() => unauthenticated);
  await assert.rejects(call("GET", "/v1/agents", undefined, undefined), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "UNAUTHENTICATED");
    return true;
  });
  assert.equal(expired, 1);
  onSessionExpired(undefined);
});

test("sign-in's own 401 is not refreshed (a wrong password is not an expired session)", async () => {
  const seen = fakeFetch(() => unauthenticated);
  await assert.rejects(call("POST", "/v1/auth/login", { session: "true" }, {}), ApiError);
  assert.deepEqual(
    seen.map((s) => s.url),
    ["/v1/auth/login?session=true"],
  );
});

test("WhoAmI's 401 (a page opened after the access token expired) is refreshed like any call", async () => {
  setCsrfToken("old");
  let refreshed = false;
  fakeFetch((request) => {
    if (request.url === "/v1/auth/refresh") {
      refreshed = true;
      return { status: 200, body: { csrfToken: "new" } };
    }
    return refreshed ? { status: 200, body: { principalKind: "PRINCIPAL_KIND_USER" } } : unauthenticated;
  });
  assert.deepEqual(await call("GET", "/v1/auth/whoami", {}, undefined), { principalKind: "PRINCIPAL_KIND_USER" });
});
