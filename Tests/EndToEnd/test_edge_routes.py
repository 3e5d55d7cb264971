"""Every route of the HTTP rules (proto/agentplane/v1/http.yaml) through the edge, as JSON, with
``requests``, against the platform ``scripts/platform up`` starts.

Each test creates what it works on (users, an API key, agents, tools, conversations, documents,
tickets; names carry a fresh marker) and leaves the seeded demo owner, tools and agent alone;
tenant settings and the provider configuration are changed harmlessly and put back. A route is
exercised through ``RoutesTest.call`` (or ``stream``), which records its (verb, path template);
the last test parses http.yaml and fails for every binding no test called, so a new rule comes
with a test. Where a real success would be destructive in the shared platform the test asserts
the specific 4xx that proves the call was transcoded and reached the service. Every JSON answer
(and every Server-Sent Event's data) is also checked against the schema the edge's own OpenAPI
document gives for its operation and status. Bugs found and not fixed yet are `known_bug` tests
marked expectedFailure: each turns into an "unexpected success" (a failed run) once fixed (none open now).
"""

import json
import re
import time
import unittest
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import referencing
import requests
import yaml

import platform_fixture
from test_edge import sse_events

TIMEOUT = 60
RULES = platform_fixture.REPO / "proto" / "agentplane" / "v1" / "http.yaml"
SUPPORT_FLOW = (platform_fixture.REPO / "examples" / "support-agent.flow.json").read_text(encoding="utf-8")
VERBS = ("get", "post", "put", "patch", "delete")
# A flow that needs no tool and pauses for a person: Execute → interrupt → Resume / CancelRun.
APPROVAL_FLOW = json.dumps(
    {
        "name": "routes-approval",
        "entry": "ask",
        "state": {"approval": {"type": "string"}},
        "nodes": [
            {"id": "ask", "kind": "human_input", "prompt": "Approve {{input}}?", "choices": ["yes", "no"],
             "output": "approval", "next": "done"},
            {"id": "done", "kind": "end", "answer": "You said {{state.approval}}."},
        ],
    }
)

# (verb, path template) of every route a test called.
EXERCISED: set[tuple[str, str]] = set()


def http_bindings() -> set[tuple[str, str]]:
    """Every (verb, path template) binding of the HTTP rules, additional bindings included."""
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    bindings = set()
    for rule in document["http"]["rules"]:
        for binding in [rule, *rule.get("additional_bindings", [])]:
            for verb in VERBS:
                if verb in binding:
                    bindings.add((verb.upper(), binding[verb]))
            if "custom" in binding:
                bindings.add((binding["custom"]["kind"].upper(), binding["custom"]["path"]))
    return bindings


class OpenAPI:
    """The edge's OpenAPI document (GET /openapi.json), to check each answer against its operation."""

    URI = "urn:agentplane:openapi"

    def __init__(self, document: dict):
        self.document = document
        resource = referencing.Resource.from_contents(
            document, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(self.URI, resource)

    def validator(self, pointer: str):
        return jsonschema.Draft202012Validator(
            {"$ref": f"{self.URI}#{pointer}"}, registry=self.registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    def operation(self, verb: str, template: str) -> dict:
        return self.document["paths"][template][verb.lower()]

    def errors(self, instance, pointer: str) -> list[str]:
        """The schema violations of `instance` against the schema at `pointer`, as text."""
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in self.validator(pointer).iter_errors(instance)]

    @staticmethod
    def escape(part: str) -> str:
        return part.replace("~", "~0").replace("/", "~1")

    def response_pointer(self, verb: str, template: str, status: int) -> str:
        """The JSON pointer of the JSON schema documented for an answer of `status`."""
        responses = self.operation(verb, template)["responses"]
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        if key not in responses:
            raise AssertionError(f"{verb} {template}: no response {status} (nor {key}) documented")
        if "$ref" in responses[key]:
            return responses[key]["$ref"][1:] + "/content/application~1json/schema"
        return f"/paths/{self.escape(template)}/{verb.lower()}/responses/{key}/content/application~1json/schema"

    def event_pointer(self, verb: str, template: str) -> str:
        """The schema of one Server-Sent Event's data, as the stream's description names it."""
        content = self.operation(verb, template)["responses"]["200"]["content"]["text/event-stream"]
        found = re.search(r"\((#/components/schemas/[^)]+)\)", content["schema"]["description"])
        if not found:
            raise AssertionError(f"{verb} {template}: the event stream names no schema for its events")
        return found.group(1)[1:]


def is_int64(value) -> bool:
    """int64 values travel as decimal strings in proto3 JSON."""
    return isinstance(value, str) and value.lstrip("-").isdigit()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RoutesTest(unittest.TestCase):
    maxDiff = 4000
    ran: set[str] = set()

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.base = cls.platform.env["AGENTPLANE_EDGE_URL"]
        login = requests.post(
            cls.base + "/v1/auth/login",
            json={"tenantSlug": cls.platform.tenant, "email": cls.platform.email, "password": cls.platform.password},
            timeout=TIMEOUT,
        )
        assert login.status_code == 200, login.text
        cls.token = login.json()["tokens"]["accessToken"]
        document = requests.get(cls.base + "/openapi.json", timeout=TIMEOUT)
        assert document.status_code == 200, document.text
        cls.openapi = OpenAPI(document.json())
        # One agent of our own (the demo flow under a unique name) for the conversation tests.
        marker = uuid.uuid4().hex[:8]
        created = requests.post(
            cls.base + "/v1/agents",
            headers={"Authorization": f"Bearer {cls.token}"},
            json={"name": f"routes-support-{marker}", "flowJson": SUPPORT_FLOW, "tags": ["routes"]},
            timeout=TIMEOUT,
        )
        assert created.status_code == 200, created.text
        cls.support_agent = created.json()["agent"]["id"]

    @classmethod
    def tearDownClass(cls):
        requests.delete(cls.base + f"/v1/agents/{cls.support_agent}",
                        headers={"Authorization": f"Bearer {cls.token}"}, timeout=TIMEOUT)

    def setUp(self):
        RoutesTest.ran.add(self._testMethodName)
        self.m = uuid.uuid4().hex[:10]

    # Calling the edge -----------------------------------------------------------------------

    def url(self, template: str, path: dict | None = None) -> str:
        route = template
        for name, value in (path or {}).items():
            route = route.replace("{" + name + "}", urllib.parse.quote(str(value), safe=""))
        self.assertNotIn("{", route, f"unbound variable in {template}")
        return self.base + route

    def call(self, verb: str, template: str, path: dict | None = None, *, token: str | None = None,
             headers: dict | None = None, **kwargs) -> requests.Response:
        """One request to a route, recorded as exercised; the shared token unless another is given."""
        EXERCISED.add((verb, template))
        all_headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        all_headers.update(headers or {})
        response = requests.request(verb, self.url(template, path), headers=all_headers, timeout=TIMEOUT, **kwargs)
        response.route = (verb, template)
        return response

    def conforms(self, response: requests.Response, body) -> None:
        """The answer matches the OpenAPI document's schema for its operation and status."""
        verb, template = response.route
        pointer = self.openapi.response_pointer(verb, template, response.status_code)
        violations = self.openapi.errors(body, pointer)
        self.assertEqual(violations, [], f"{verb} {template} ({response.status_code}) breaks its schema: {body}")

    def stream(self, verb: str, template: str, path: dict | None = None, *, token: str | None = None,
               headers: dict | None = None, **kwargs) -> list[dict]:
        """A server-streaming route: asserts 200 text/event-stream and returns every event."""
        EXERCISED.add((verb, template))
        all_headers = {"Authorization": f"Bearer {token or self.token}"}
        all_headers.update(headers or {})
        with requests.request(
            verb, self.url(template, path), headers=all_headers, stream=True, timeout=TIMEOUT, **kwargs
        ) as response:
            self.assertEqual(response.status_code, 200, response.text if response.status_code != 200 else "")
            self.assertTrue(response.headers["content-type"].startswith("text/event-stream"))
            events = list(sse_events(response))
        self.assertNotIn("error", [e["event"] for e in events], events)
        pointer = self.openapi.event_pointer(verb, template)
        for event in events:
            violations = self.openapi.errors(event["data"], pointer)
            self.assertEqual(violations, [], f"{verb} {template}: event {event} breaks its schema")
        return events

    def ok(self, response: requests.Response) -> dict:
        """Asserts a 200 JSON answer and returns its body."""
        self.assertEqual(response.status_code, 200, f"{response.request.method} {response.url}: {response.text}")
        self.assertEqual(response.headers["content-type"], "application/json")
        body = response.json()
        self.conforms(response, body)
        return body

    def fails(self, response: requests.Response, status: int, code: str) -> dict:
        """Asserts an error answer with its HTTP status and gRPC code; returns its body."""
        self.assertEqual(response.status_code, status, f"{response.request.method} {response.url}: {response.text}")
        body = response.json()
        self.assertEqual(body["code"], code, body)
        self.assertTrue(body["message"], body)
        self.conforms(response, body)
        return body

    # AuthService -----------------------------------------------------------------------------

    def test_auth_login_refresh_whoami_and_logout_of_a_fresh_session(self):
        login = self.ok(self.call("POST", "/v1/auth/login", token="", json={
            "tenantSlug": self.platform.tenant, "email": self.platform.email, "password": self.platform.password}))
        self.assertEqual(login["user"]["email"], self.platform.email)
        self.assertEqual(login["tenant"]["slug"], self.platform.tenant)
        self.assertIn("ROLE_OWNER", login["user"]["roles"])
        refreshed = self.ok(self.call("POST", "/v1/auth/refresh", token="",
                                      json={"refreshToken": login["tokens"]["refreshToken"]}))
        access = refreshed["tokens"]["accessToken"]
        self.assertNotEqual(access, login["tokens"]["accessToken"])
        self.assertNotEqual(refreshed["tokens"]["refreshToken"], login["tokens"]["refreshToken"])
        who = self.ok(self.call("GET", "/v1/auth/whoami", token=access))
        self.assertEqual(who["principalKind"], "PRINCIPAL_KIND_USER")
        self.assertEqual(who["user"]["email"], self.platform.email)
        self.assertEqual(who["tenant"]["slug"], self.platform.tenant)
        self.assertIn("ROLE_OWNER", who["roles"])
        # Logout ends this session only (never the shared token's).
        self.assertEqual(self.ok(self.call("POST", "/v1/auth/logout", token=access, json={})), {})
        self.fails(self.call("GET", "/v1/auth/whoami", token=access), 401, "UNAUTHENTICATED")
        self.fails(self.call("POST", "/v1/auth/refresh", token="",
                             json={"refreshToken": refreshed["tokens"]["refreshToken"]}), 401, "UNAUTHENTICATED")
        self.fails(self.call("POST", "/v1/auth/login", token="", json={"tenantSlug": self.platform.tenant}),
                   400, "INVALID_ARGUMENT")
        self.assertEqual(self.ok(self.call("GET", "/v1/auth/whoami"))["principalKind"], "PRINCIPAL_KIND_USER")

    # TenantService ---------------------------------------------------------------------------

    def test_tenant_get_and_settings_changed_then_put_back(self):
        tenant = self.ok(self.call("GET", "/v1/tenant"))["tenant"]
        self.assertEqual(tenant["slug"], self.platform.tenant)
        self.assertTrue(is_int64(tenant["revision"]), tenant)
        original = tenant["settings"]
        zone = "Europe/Berlin" if original.get("timeZone") != "Europe/Berlin" else "Europe/Lisbon"
        try:
            updated = self.ok(self.call("PUT", "/v1/tenant/settings", json={
                "settings": dict(original, timeZone=zone), "expectedRevision": tenant["revision"]}))["tenant"]
            self.assertEqual(updated["settings"]["timeZone"], zone)
            self.assertGreater(int(updated["revision"]), int(tenant["revision"]))
            self.assertEqual(self.ok(self.call("GET", "/v1/tenant"))["tenant"]["settings"]["timeZone"], zone)
            self.fails(self.call("PUT", "/v1/tenant/settings", json={
                "settings": original, "expectedRevision": tenant["revision"]}), 409, "ABORTED")
            self.fails(self.call("PUT", "/v1/tenant/settings", json={"settings": dict(original, maxRunSteps=-1)}),
                       400, "INVALID_ARGUMENT")
        finally:
            restored = self.ok(self.call("PUT", "/v1/tenant/settings", json={"settings": original}))["tenant"]
        self.assertEqual(restored["settings"], original)

    def test_create_tenant_needs_the_bootstrap_token(self):
        slug = f"routes-{self.m}"
        request = {"slug": slug, "displayName": "Routes", "ownerEmail": f"owner@{slug}.test",
                   "ownerPassword": "correct horse battery staple"}
        self.fails(self.call("POST", "/v1/tenants", json=request), 401, "UNAUTHENTICATED")
        bootstrap = Path(self.platform.env["AGENTPLANE_BOOTSTRAP_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
        created = self.ok(self.call("POST", "/v1/tenants", token=bootstrap, json=request))
        self.assertEqual(created["tenant"]["slug"], slug)
        self.assertEqual(created["owner"]["email"], f"owner@{slug}.test")
        self.assertEqual(created["owner"]["roles"], ["ROLE_OWNER"])
        self.assertNotIn("ownerPassword", json.dumps(created))
        self.fails(self.call("POST", "/v1/tenants", token=bootstrap, json=request), 409, "ALREADY_EXISTS")

    # UserService -----------------------------------------------------------------------------

    def test_users_create_get_list_by_pages_change_roles_and_delete(self):
        emails = [f"routes-{self.m}-{i}@example.test" for i in range(3)]
        users = []
        for index, email in enumerate(emails):
            user = self.ok(self.call("POST", "/v1/users", json={
                "email": email.upper() if index == 0 else email, "displayName": f"Routes {self.m} {index}",
                "password": "correct horse battery staple", "roles": ["ROLE_MEMBER"]}))["user"]
            self.assertEqual(user["email"], email)  # stored lower-cased
            self.assertEqual(user["roles"], ["ROLE_MEMBER"])
            self.assertNotIn("password", user)
            users.append(user)
        self.fails(self.call("POST", "/v1/users", json={
            "email": emails[0], "password": "correct horse battery staple", "roles": ["ROLE_MEMBER"]}),
            409, "ALREADY_EXISTS")
        self.fails(self.call("POST", "/v1/users", json={
            "email": f"short-{self.m}@example.test", "password": "short", "roles": ["ROLE_MEMBER"]}),
            400, "INVALID_ARGUMENT")
        got = self.ok(self.call("GET", "/v1/users/{user_id}", {"user_id": users[1]["id"]}))["user"]
        self.assertEqual(got["email"], emails[1])
        # Two pages of two by the query (an enum query parameter too), ordered by email.
        first = self.ok(self.call("GET", "/v1/users", params={"page_size": 2, "query": self.m, "role": "ROLE_MEMBER"}))
        self.assertEqual([u["email"] for u in first["users"]], sorted(emails)[:2])
        self.assertTrue(first["nextPageToken"])
        second = self.ok(self.call("GET", "/v1/users", params={
            "page_size": 2, "query": self.m, "role": "ROLE_MEMBER", "page_token": first["nextPageToken"]}))
        self.assertEqual([u["email"] for u in second["users"]], sorted(emails)[2:])
        self.assertFalse(second.get("nextPageToken"))
        admins = self.ok(self.call("GET", "/v1/users", params={"query": self.m, "role": "ROLE_ADMIN"}))
        self.assertEqual(admins.get("users", []), [])
        self.fails(self.call("GET", "/v1/users", params={"page_size": -1}), 400, "INVALID_ARGUMENT")
        changed = self.ok(self.call("PUT", "/v1/users/{user_id}/roles", {"user_id": users[0]["id"]},
                                    json={"roles": ["ROLE_BUILDER"]}))["user"]
        self.assertEqual(changed["roles"], ["ROLE_BUILDER"])
        self.fails(self.call("PUT", "/v1/users/{user_id}/roles", {"user_id": users[0]["id"]},
                             json={"roles": ["ROLE_SERVICE"]}), 400, "INVALID_ARGUMENT")
        for user in users:
            self.assertEqual(self.ok(self.call("DELETE", "/v1/users/{user_id}", {"user_id": user["id"]})), {})
            self.fails(self.call("GET", "/v1/users/{user_id}", {"user_id": user["id"]}), 404, "NOT_FOUND")
        self.fails(self.call("DELETE", "/v1/users/{user_id}", {"user_id": str(uuid.uuid4())}), 404, "NOT_FOUND")

    def test_api_key_created_used_listed_and_revoked(self):
        created = self.ok(self.call("POST", "/v1/users/me/api-keys", json={
            "name": f"routes-{self.m}", "roles": ["ROLE_MEMBER"], "ttl": "3600s"}))
        key, secret = created["apiKey"], created["secret"]
        self.assertTrue(secret.startswith("apk_"), secret[:8])
        self.assertTrue(secret.startswith(key["prefix"]))
        self.assertEqual(key["roles"], ["ROLE_MEMBER"])
        self.assertIn("expiresAt", key)
        self.assertNotIn("revokedAt", key)
        who = self.ok(self.call("GET", "/v1/auth/whoami", token=secret))
        self.assertEqual(who["principalKind"], "PRINCIPAL_KIND_API_KEY")
        self.assertEqual(who["apiKey"]["id"], key["id"])
        self.assertEqual(who["roles"], ["ROLE_MEMBER"])
        # A member's key: below admin for listing users.
        self.fails(self.call("GET", "/v1/users", token=secret), 403, "PERMISSION_DENIED")
        listed = self.ok(self.call("GET", "/v1/users/me/api-keys", params={"page_size": 200}))
        self.assertIn(key["id"], [k["id"] for k in listed["apiKeys"]])
        self.assertNotIn(secret, json.dumps(listed))
        revoked = self.ok(self.call("DELETE", "/v1/users/me/api-keys/{api_key_id}", {"api_key_id": key["id"]}))
        self.assertIn("revokedAt", revoked["apiKey"])
        self.fails(self.call("GET", "/v1/auth/whoami", token=secret), 401, "UNAUTHENTICATED")
        again = self.ok(self.call("DELETE", "/v1/users/me/api-keys/{api_key_id}", {"api_key_id": key["id"]}))
        self.assertEqual(again["apiKey"]["revokedAt"], revoked["apiKey"]["revokedAt"])  # idempotent
        active = self.ok(self.call("GET", "/v1/users/me/api-keys", params={"page_size": 200}))
        self.assertNotIn(key["id"], [k["id"] for k in active.get("apiKeys", [])])
        every = self.ok(self.call("GET", "/v1/users/me/api-keys", params={"page_size": 200, "include_revoked": "true"}))
        self.assertIn(key["id"], [k["id"] for k in every["apiKeys"]])
        self.fails(self.call("DELETE", "/v1/users/me/api-keys/{api_key_id}", {"api_key_id": str(uuid.uuid4())}),
                   404, "NOT_FOUND")

    # AgentService ----------------------------------------------------------------------------

    def test_agent_versions_update_rollback_list_validate_and_delete(self):
        name = f"routes-agent-{self.m}"
        tag = f"t{self.m}"
        agent = self.ok(self.call("POST", "/v1/agents", json={
            "name": name, "description": "v1", "flowJson": SUPPORT_FLOW, "tags": [tag, "routes"],
            "metadata": {"suite": "routes"}}))["agent"]
        self.assertEqual((agent["version"], agent["latestVersion"]), (1, 1))
        agent_id = agent["id"]
        got = self.ok(self.call("GET", "/v1/agents/{agent_id}", {"agent_id": agent_id},
                                params={"include_tools": "true"}))
        self.assertEqual(got["agent"]["flowJson"], SUPPORT_FLOW)  # verbatim
        self.assertEqual(got["agent"]["metadata"], {"suite": "routes"})
        self.assertEqual(sorted(t["name"] for t in got["tools"]), ["kb_search", "notification", "ticketing"])
        self.fails(self.call("POST", "/v1/agents", json={"name": name, "flowJson": SUPPORT_FLOW}),
                   409, "ALREADY_EXISTS")
        v2 = self.ok(self.call("PUT", "/v1/agents/{agent_id}", {"agent_id": agent_id}, json={
            "expectedVersion": 1, "name": name, "description": "v2", "flowJson": SUPPORT_FLOW, "tags": [tag, "routes"],
            "changeMessage": "second"}))["agent"]
        self.assertEqual((v2["version"], v2["description"], v2["changeMessage"]), (2, "v2", "second"))
        self.fails(self.call("PUT", "/v1/agents/{agent_id}", {"agent_id": agent_id}, json={
            "expectedVersion": 1, "name": name, "flowJson": SUPPORT_FLOW, "changeMessage": "stale"}), 409, "ABORTED")
        self.fails(self.call("PUT", "/v1/agents/{agent_id}", {"agent_id": agent_id}, json={
            "name": name, "flowJson": SUPPORT_FLOW}), 400, "INVALID_ARGUMENT")  # no change_message
        old = self.ok(self.call("GET", "/v1/agents/{agent_id}/versions/{version}",
                                {"agent_id": agent_id, "version": 1}))["agent"]
        self.assertEqual((old["version"], old["latestVersion"], old["description"]), (1, 2, "v1"))
        self.fails(self.call("GET", "/v1/agents/{agent_id}/versions/{version}", {"agent_id": agent_id, "version": 9}),
                   404, "NOT_FOUND")
        v3 = self.ok(self.call("POST", "/v1/agents/{agent_id}/rollback", {"agent_id": agent_id},
                               json={"toVersion": 1, "expectedVersion": 2}))["agent"]
        self.assertEqual((v3["version"], v3["restoredFromVersion"], v3["description"]), (3, 1, "v1"))
        self.fails(self.call("POST", "/v1/agents/{agent_id}/rollback", {"agent_id": agent_id},
                             json={"toVersion": 3}), 400, "INVALID_ARGUMENT")  # the latest version
        page = self.ok(self.call("GET", "/v1/agents/{agent_id}/versions", {"agent_id": agent_id},
                                 params={"page_size": 2}))
        self.assertEqual([v["version"] for v in page["versions"]], [3, 2])
        rest = self.ok(self.call("GET", "/v1/agents/{agent_id}/versions", {"agent_id": agent_id},
                                 params={"page_size": 2, "page_token": page["nextPageToken"]}))
        self.assertEqual([v["version"] for v in rest["versions"]], [1])
        self.assertFalse(rest.get("nextPageToken"))
        # Repeated query parameters: every tag must match.
        listed = self.ok(self.call("GET", "/v1/agents", params=[("tags", tag), ("tags", "routes"),
                                                                ("name_contains", "ROUTES-AGENT")]))
        self.assertEqual([a["id"] for a in listed["agents"]], [agent_id])
        self.assertFalse(listed["agents"][0].get("flowJson"))
        none = self.ok(self.call("GET", "/v1/agents", params=[("tags", tag), ("tags", "elsewhere")]))
        self.assertEqual(none.get("agents", []), [])
        valid = self.ok(self.call("POST", "/v1/flows/validate", json={"flowJson": SUPPORT_FLOW}))
        self.assertTrue(valid["valid"], valid)
        broken = json.loads(SUPPORT_FLOW)
        broken["nodes"][0]["next"] = "nowhere"
        invalid = self.ok(self.call("POST", "/v1/flows/validate", json={"flowJson": json.dumps(broken)}))
        self.assertFalse(invalid["valid"])
        self.assertTrue(all(e["field"].startswith("$") for e in invalid["errors"]), invalid)
        self.assertEqual(self.ok(self.call("DELETE", "/v1/agents/{agent_id}", {"agent_id": agent_id})), {})
        self.fails(self.call("GET", "/v1/agents/{agent_id}", {"agent_id": agent_id}), 404, "NOT_FOUND")
        self.fails(self.call("DELETE", "/v1/agents/{agent_id}", {"agent_id": agent_id}), 404, "NOT_FOUND")

    # ToolService -----------------------------------------------------------------------------

    def test_tool_created_listed_updated_executed_and_deleted(self):
        name = f"routes-kb-{self.m}"
        tool = self.ok(self.call("POST", "/v1/tools", json={
            "name": name, "description": "Searches the KB (routes test).", "kind": "TOOL_KIND_KB_SEARCH",
            "config": {"mode": "lexical", "top_k": 2}, "enabled": True, "timeout": "10s"}))["tool"]
        self.assertEqual(tool["kind"], "TOOL_KIND_KB_SEARCH")
        self.assertEqual(tool["timeout"], "10s")
        self.assertTrue(is_int64(tool["revision"]))
        tool_id = tool["id"]
        bad = self.fails(self.call("POST", "/v1/tools", json={
            "name": f"routes-bad-{self.m}", "kind": "TOOL_KIND_KB_SEARCH", "config": {"nope": 1}}),
            400, "INVALID_ARGUMENT")
        self.assertTrue(bad["details"]["violations"], bad)
        self.assertEqual(self.ok(self.call("GET", "/v1/tools/{tool_id}", {"tool_id": tool_id}))["tool"]["name"], name)
        kb_tools = self.ok(self.call("GET", "/v1/tools", params={"kind": "TOOL_KIND_KB_SEARCH", "page_size": 200}))
        self.assertIn(tool_id, [t["id"] for t in kb_tools["tools"]])
        self.assertEqual({t["kind"] for t in kb_tools["tools"]}, {"TOOL_KIND_KB_SEARCH"})
        http_tools = self.ok(self.call("GET", "/v1/tools", params={"kind": "TOOL_KIND_HTTP", "page_size": 200}))
        self.assertNotIn(tool_id, [t["id"] for t in http_tools.get("tools", [])])
        updated = self.ok(self.call("PUT", "/v1/tools/{tool_id}", {"tool_id": tool_id}, json={
            "expectedRevision": tool["revision"], "name": name, "description": "v2",
            "config": {"mode": "lexical", "top_k": 3}, "enabled": True, "timeout": "10s"}))["tool"]
        self.assertEqual(int(updated["revision"]), int(tool["revision"]) + 1)
        self.assertEqual(updated["config"], {"mode": "lexical", "top_k": 3})
        self.fails(self.call("PUT", "/v1/tools/{tool_id}", {"tool_id": tool_id}, json={
            "expectedRevision": tool["revision"], "name": name, "config": {}, "enabled": True}), 409, "ABORTED")
        request = {"arguments": {"query": "How do I reset my password?"}, "idempotencyKey": f"routes-{self.m}"}
        executed = self.ok(self.call("POST", "/v1/tools/{tool_id}/execute", {"tool_id": tool_id}, json=request))
        self.assertIsInstance(executed["result"], dict)
        self.assertFalse(executed.get("replayed"))
        self.assertRegex(executed["elapsed"], r"^\d+(\.\d+)?s$")
        replayed = self.ok(self.call("POST", "/v1/tools/{tool_id}/execute", {"tool_id": tool_id}, json=request))
        self.assertTrue(replayed["replayed"])
        self.assertEqual(replayed["result"], executed["result"])
        self.ok(self.call("PUT", "/v1/tools/{tool_id}", {"tool_id": tool_id}, json={
            "name": name, "config": {"mode": "lexical"}, "enabled": False}))
        self.fails(self.call("POST", "/v1/tools/{tool_id}/execute", {"tool_id": tool_id},
                             json={"arguments": {"query": "x"}}), 400, "FAILED_PRECONDITION")
        self.assertEqual(self.ok(self.call("DELETE", "/v1/tools/{tool_id}", {"tool_id": tool_id})), {})
        self.fails(self.call("GET", "/v1/tools/{tool_id}", {"tool_id": tool_id}), 404, "NOT_FOUND")
        self.fails(self.call("POST", "/v1/tools/{tool_id}/execute", {"tool_id": tool_id}, json={}), 404, "NOT_FOUND")

    def test_password_changed_by_its_user_and_reset_by_an_admin(self):
        email = f"routes-pw-{self.m}@example.test"
        first = "correct horse battery staple"
        user = self.ok(self.call("POST", "/v1/users", json={
            "email": email, "password": first, "roles": ["ROLE_MEMBER"]}))["user"]

        def login(password):
            return requests.post(self.base + "/v1/auth/login", json={
                "tenantSlug": self.platform.tenant, "email": email, "password": password}, timeout=TIMEOUT)

        session = login(first).json()["tokens"]["accessToken"]
        other = login(first).json()["tokens"]["accessToken"]
        wrong = self.fails(self.call("POST", "/v1/auth/password", token=session, json={
            "currentPassword": "not the password", "newPassword": "a brand new password"}), 403, "PERMISSION_DENIED")
        self.assertEqual(wrong["details"]["reason"], "WRONG_PASSWORD")
        self.fails(self.call("POST", "/v1/auth/password", token=session, json={
            "currentPassword": first, "newPassword": "short"}), 400, "INVALID_ARGUMENT")
        second = "a brand new password"
        changed = self.ok(self.call("POST", "/v1/auth/password", token=session, json={
            "currentPassword": first, "newPassword": second}))
        self.assertEqual(changed["endedSessions"], 1)
        self.assertNotIn(second, json.dumps(changed))
        self.fails(self.call("GET", "/v1/auth/whoami", token=other), 401, "UNAUTHENTICATED")
        self.assertEqual(self.ok(self.call("GET", "/v1/auth/whoami", token=session))["user"]["email"], email)
        self.assertEqual(login(first).status_code, 401)
        own = login(second)
        self.assertEqual(own.status_code, 200)
        self.assertFalse(own.json()["user"].get("passwordTemporary", False))  # the user's own now
        # An admin (the shared owner) sets a temporary password: every session of the user ends.
        temporary = "a temporary password"
        reset = self.ok(self.call("POST", "/v1/users/{user_id}/password", {"user_id": user["id"]},
                                  json={"password": temporary}))
        self.assertEqual(reset["user"]["id"], user["id"])
        self.assertGreaterEqual(reset["endedSessions"], 2)
        self.fails(self.call("GET", "/v1/auth/whoami", token=session), 401, "UNAUTHENTICATED")
        self.assertTrue(reset["user"]["passwordTemporary"])
        self.assertTrue(login(temporary).json()["user"]["passwordTemporary"])
        self.fails(self.call("POST", "/v1/users/{user_id}/password", {"user_id": user["id"]},
                             json={"password": "short"}), 400, "INVALID_ARGUMENT")
        self.fails(self.call("POST", "/v1/users/{user_id}/password", {"user_id": str(uuid.uuid4())},
                             json={"password": temporary}), 404, "NOT_FOUND")
        self.ok(self.call("DELETE", "/v1/users/{user_id}", {"user_id": user["id"]}))

    def test_tool_kinds_are_served_with_the_schemas_saves_are_checked_against(self):
        kinds = self.ok(self.call("GET", "/v1/tool-kinds"))["kinds"]
        by_kind = {k["kind"]: k for k in kinds}
        self.assertEqual(set(by_kind), {"TOOL_KIND_KB_SEARCH", "TOOL_KIND_TICKETING", "TOOL_KIND_NOTIFICATION",
                                        "TOOL_KIND_LLM", "TOOL_KIND_HTTP"})
        top_k = by_kind["TOOL_KIND_KB_SEARCH"]["configSchema"]["properties"]["top_k"]
        self.assertEqual(top_k["type"], "integer")
        self.assertTrue(by_kind["TOOL_KIND_HTTP"]["secretsSchema"]["additionalProperties"])
        # The served maximum is the one a save is refused past.
        refused = self.fails(self.call("POST", "/v1/tools", json={
            "name": f"routes-kinds-{self.m}", "kind": "TOOL_KIND_KB_SEARCH",
            "config": {"top_k": top_k["maximum"] + 1}}), 400, "INVALID_ARGUMENT")
        self.assertEqual([v["field"] for v in refused["details"]["violations"]], ["config.top_k"])

    # ConversationService and ExecutionService on a finished run ----------------------------

    def test_conversation_message_stream_history_and_the_run_it_made(self):
        conversation = self.ok(self.call("POST", "/v1/conversations", json={
            "agentId": self.support_agent, "title": f"routes {self.m}", "metadata": {"m": self.m}}))["conversation"]
        self.assertEqual(conversation["status"], "CONVERSATION_STATUS_IDLE")
        cid = conversation["id"]
        got = self.ok(self.call("GET", "/v1/conversations/{conversation_id}", {"conversation_id": cid}))
        self.assertEqual(got["conversation"]["metadata"], {"m": self.m})
        events = self.stream("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                             json={"content": "How do I reset my password?"})
        self.assertEqual(events[0]["event"], "userMessage")
        self.assertEqual(events[-1]["event"], "assistantMessage")
        run_events = [e["data"]["event"] for e in events if e["event"] == "event"]
        run_id = run_events[0]["runId"]
        self.assertIn("runStarted", run_events[0])
        self.assertIn("runFinished", run_events[-1])
        last_sequence = int(run_events[-1]["sequence"])
        # Messages, one per page.
        first = self.ok(self.call("GET", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                                  params={"page_size": 1}))
        self.assertEqual([m["role"] for m in first["messages"]], ["MESSAGE_ROLE_USER"])
        self.assertTrue(first["nextPageToken"])
        second = self.ok(self.call("GET", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                                   params={"page_size": 1, "page_token": first["nextPageToken"]}))
        self.assertEqual([m["role"] for m in second["messages"]], ["MESSAGE_ROLE_ASSISTANT"])
        self.assertEqual(second["messages"][0]["runId"], run_id)
        self.assertEqual(second["messages"][0]["id"], events[-1]["data"]["assistantMessage"]["id"])
        # Saved with the knowledge-base chunks the answer rests on (the same the run's tool found).
        citations = json.loads(second["messages"][0]["metadata"]["citations"])
        self.assertIn("password-reset.md", [c["title"] for c in citations])
        self.assertTrue(all(c["document_id"] and "chunk_id" in c for c in citations))
        self.fails(self.call("GET", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                             params={"page_token": "garbage"}), 400, "INVALID_ARGUMENT")
        listed = self.ok(self.call("GET", "/v1/conversations", params={
            "agent_id": self.support_agent, "status": "CONVERSATION_STATUS_IDLE", "page_size": 200}))
        self.assertIn(cid, [c["id"] for c in listed["conversations"]])
        waiting = self.ok(self.call("GET", "/v1/conversations", params={
            "agent_id": self.support_agent, "status": "CONVERSATION_STATUS_WAITING_FOR_INPUT"}))
        self.assertNotIn(cid, [c["id"] for c in waiting.get("conversations", [])])
        # Watching the finished run again: from after the second event (a query parameter).
        watched = self.stream("GET", "/v1/conversations/{conversation_id}/events", {"conversation_id": cid},
                              params={"after_sequence": 2})
        self.assertEqual([int(e["id"]) for e in watched if e["event"] == "event"], list(range(3, last_sequence + 1)))
        self.assertEqual(watched[-1]["event"], "assistantMessage")
        # Nothing is waiting for input.
        self.fails(self.call("POST", "/v1/conversations/{conversation_id}/resume", {"conversation_id": cid},
                             json={"input": {"interruptId": "none", "text": "yes"}}), 400, "FAILED_PRECONDITION")
        self.fails(self.call("GET", "/v1/conversations/{conversation_id}", {"conversation_id": str(uuid.uuid4())}),
                   404, "NOT_FOUND")

        # The run, through ExecutionService.
        run = self.ok(self.call("GET", "/v1/runs/{run_id}", {"run_id": run_id},
                                params={"include_state": "true"}))["run"]
        self.assertEqual(run["status"], "RUN_STATUS_SUCCEEDED")
        self.assertEqual(run["conversationId"], cid)
        self.assertEqual(run["lastSequence"], str(last_sequence))
        self.assertIn("answer", run["state"])
        self.assertIn("finishedAt", run)
        runs = self.ok(self.call("GET", "/v1/runs", params={"conversation_id": cid, "status": "RUN_STATUS_SUCCEEDED"}))
        self.assertEqual([r["id"] for r in runs["runs"]], [run_id])
        failed = self.ok(self.call("GET", "/v1/runs", params={"conversation_id": cid, "status": "RUN_STATUS_FAILED"}))
        self.assertEqual(failed.get("runs", []), [])
        checkpoints, token = [], ""
        while True:
            page = self.ok(self.call("GET", "/v1/runs/{run_id}/checkpoints", {"run_id": run_id},
                                     params={"page_size": 1, "page_token": token, "include_state": "true"}))
            self.assertLessEqual(len(page["checkpoints"]), 1)
            checkpoints += page["checkpoints"]
            token = page.get("nextPageToken", "")
            if not token:
                break
        finished = [e["nodeFinished"] for e in run_events if "nodeFinished" in e]
        self.assertEqual([c["id"] for c in checkpoints], [f["checkpointId"] for f in finished])
        self.assertTrue(all(isinstance(c["state"], dict) for c in checkpoints))
        watched_run = self.stream("GET", "/v1/runs/{run_id}/events", {"run_id": run_id}, params={"after_sequence": 1})
        self.assertEqual([int(e["id"]) for e in watched_run], list(range(2, last_sequence + 1)))
        self.assertEqual(watched_run[-1]["event"], "runFinished")
        self.fails(self.call("POST", "/v1/runs/{run_id}/cancel", {"run_id": run_id}, json={"reason": "too late"}),
                   400, "FAILED_PRECONDITION")
        # A new run from the first checkpoint; the original stays as it was.
        replay = self.stream("POST", "/v1/runs/{run_id}/replay", {"run_id": run_id},
                             json={"checkpointId": checkpoints[0]["id"], "options": {"omitStateUpdates": True}})
        started = replay[0]["data"]["runStarted"]
        self.assertEqual(replay[0]["event"], "runStarted")
        self.assertEqual(started["replayedFromRunId"], run_id)
        self.assertEqual(started["replayedFromCheckpointId"], checkpoints[0]["id"])
        self.assertNotEqual(replay[0]["data"]["runId"], run_id)
        self.assertEqual(replay[-1]["event"], "runFinished")
        self.assertEqual(self.ok(self.call("GET", "/v1/runs/{run_id}", {"run_id": run_id}))["run"]["lastSequence"],
                         str(last_sequence))
        self.fails(self.call("GET", "/v1/runs/{run_id}", {"run_id": str(uuid.uuid4())}), 404, "NOT_FOUND")
        # The conversation deleted with its messages (its runs are the execution service's).
        path = {"conversation_id": cid}
        self.assertEqual(self.ok(self.call("DELETE", "/v1/conversations/{conversation_id}", path)), {})
        self.fails(self.call("GET", "/v1/conversations/{conversation_id}", path), 404, "NOT_FOUND")
        self.fails(self.call("GET", "/v1/conversations/{conversation_id}/messages", path), 404, "NOT_FOUND")
        self.fails(self.call("DELETE", "/v1/conversations/{conversation_id}", path), 404, "NOT_FOUND")
        self.assertEqual(self.ok(self.call("GET", "/v1/runs/{run_id}", {"run_id": run_id}))["run"]["id"], run_id)

    # ExecutionService on runs that pause -----------------------------------------------------

    def test_runs_that_pause_for_input_resume_and_cancel(self):
        valid = self.ok(self.call("POST", "/v1/flows/validate", json={"flowJson": APPROVAL_FLOW}))
        self.assertTrue(valid["valid"], valid)
        events = self.stream("POST", "/v1/runs", json={"draftFlowJson": APPROVAL_FLOW, "input": "order 42"})
        self.assertEqual(events[0]["event"], "runStarted")
        self.assertEqual(events[-1]["event"], "interrupt")
        interrupt = events[-1]["data"]["interrupt"]
        run_id = events[-1]["data"]["runId"]
        self.assertEqual(interrupt["choices"], ["yes", "no"])
        self.assertEqual(interrupt["prompt"], "Approve order 42?")
        waiting = self.ok(self.call("GET", "/v1/runs/{run_id}", {"run_id": run_id}))["run"]
        self.assertEqual(waiting["status"], "RUN_STATUS_WAITING_FOR_INPUT")
        self.fails(self.call("POST", "/v1/runs/{run_id}/resume", {"run_id": run_id}, json={
            "input": {"interruptId": interrupt["interruptId"], "text": "maybe"}}), 400, "INVALID_ARGUMENT")
        resumed = self.stream("POST", "/v1/runs/{run_id}/resume", {"run_id": run_id}, json={
            "input": {"interruptId": interrupt["interruptId"], "text": "yes"}})
        self.assertEqual(resumed[0]["event"], "runResumed")
        self.assertEqual(int(resumed[0]["id"]), int(events[-1]["id"]) + 1)
        self.assertEqual(resumed[-1]["event"], "runFinished")
        self.assertEqual(resumed[-1]["data"]["runFinished"]["answer"], "You said yes.")
        self.fails(self.call("POST", "/v1/runs/{run_id}/resume", {"run_id": run_id}, json={
            "input": {"interruptId": interrupt["interruptId"], "text": "yes"}}), 400, "FAILED_PRECONDITION")
        # A paused run cancelled.
        paused = self.stream("POST", "/v1/runs", json={"draftFlowJson": APPROVAL_FLOW, "input": "order 43"})
        other = paused[-1]["data"]["runId"]
        cancelled = self.ok(self.call("POST", "/v1/runs/{run_id}/cancel", {"run_id": other},
                                      json={"reason": "routes test"}))["run"]
        self.assertEqual(cancelled["status"], "RUN_STATUS_CANCELLED")
        tail = self.stream("GET", "/v1/runs/{run_id}/events", {"run_id": other},
                           params={"after_sequence": paused[-1]["id"]})
        self.assertEqual(tail[-1]["event"], "runCancelled")
        self.assertEqual(tail[-1]["data"]["runCancelled"]["reason"], "routes test")
        self.fails(self.call("POST", "/v1/runs", json={"draftFlowJson": "{"}), 400, "INVALID_ARGUMENT")

    def test_a_conversation_that_waits_for_input_resumes(self):
        agent = self.ok(self.call("POST", "/v1/agents", json={
            "name": f"routes-approval-{self.m}", "flowJson": APPROVAL_FLOW}))["agent"]
        try:
            cid = self.ok(self.call("POST", "/v1/conversations", json={"agentId": agent["id"]}))["conversation"]["id"]
            events = self.stream("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                                 json={"content": "refund 7"})
            self.assertEqual(events[0]["event"], "userMessage")
            interrupt = events[-1]["data"]["event"]["interrupt"]
            conversation = self.ok(self.call("GET", "/v1/conversations/{conversation_id}", {"conversation_id": cid}))
            self.assertEqual(conversation["conversation"]["status"], "CONVERSATION_STATUS_WAITING_FOR_INPUT")
            self.assertEqual(conversation["conversation"]["pendingInterrupt"]["interruptId"], interrupt["interruptId"])
            self.fails(self.call("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                                 json={"content": "hello?"}), 400, "FAILED_PRECONDITION")
            resumed = self.stream("POST", "/v1/conversations/{conversation_id}/resume", {"conversation_id": cid},
                                  json={"input": {"interruptId": interrupt["interruptId"], "text": "no"}})
            self.assertEqual(resumed[0]["event"], "userMessage")
            self.assertEqual(resumed[0]["data"]["userMessage"]["content"], "no")
            self.assertEqual(resumed[-1]["event"], "assistantMessage")
            self.assertEqual(resumed[-1]["data"]["assistantMessage"]["content"], "You said no.")
        finally:
            self.ok(self.call("DELETE", "/v1/agents/{agent_id}", {"agent_id": agent["id"]}))

    # DocumentService and KnowledgeBaseService ------------------------------------------------

    def test_document_indexed_searched_downloaded_and_deleted(self):
        word = f"zorbleflux{self.m}"
        content = (f"# Routes\n\n## The {word} procedure\n\nTo recalibrate the {word}, hold the button for "
                   "ten seconds and wait for the light.\n").encode()
        name = f"routes-{self.m}.md"
        tag = f"routes-{self.m}"
        document = self.ok(self.call("POST", "/v1/documents", params={"name": name, "tags": tag},
                                     headers={"Content-Type": "text/markdown"}, data=content))["document"]
        self.assertEqual(document["name"], name)
        self.assertEqual(document["sizeBytes"], str(len(content)))
        doc_id = document["id"]
        deadline = time.monotonic() + 60
        while document["status"] != "DOCUMENT_STATUS_READY":
            self.assertIn(document["status"], ("DOCUMENT_STATUS_PROCESSING", "DOCUMENT_STATUS_READY"), document)
            self.assertLess(time.monotonic(), deadline, document)
            time.sleep(0.5)
            document = self.ok(self.call("GET", "/v1/documents/{document_id}", {"document_id": doc_id}))["document"]
        self.assertGreaterEqual(document["chunkCount"], 1)
        listed = self.ok(self.call("GET", "/v1/documents", params={
            "tags": tag, "status": "DOCUMENT_STATUS_READY", "name_contains": self.m}))
        self.assertEqual([d["id"] for d in listed["documents"]], [doc_id])
        download = self.call("GET", "/v1/documents/{document_id}/content", {"document_id": doc_id})
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download.content, content)
        found = self.ok(self.call("POST", "/v1/kb/search", json={
            "query": word, "mode": "SEARCH_MODE_LEXICAL", "topK": 3, "documentIds": [doc_id]}))
        self.assertEqual(found["mode"], "SEARCH_MODE_LEXICAL")
        self.assertTrue(found["results"], found)
        self.assertEqual({r["documentId"] for r in found["results"]}, {doc_id})
        self.assertIn(word, found["results"][0]["text"])
        self.assertIsInstance(found["results"][0]["score"], (int, float))
        self.fails(self.call("POST", "/v1/kb/search", json={"query": ""}), 400, "INVALID_ARGUMENT")
        stats = self.ok(self.call("GET", "/v1/kb/stats"))
        self.assertTrue(is_int64(stats["documentCount"]) and int(stats["documentCount"]) >= 1, stats)
        self.assertTrue(is_int64(stats["chunkCount"]) and int(stats["chunkCount"]) >= 1, stats)
        self.assertTrue(stats["embeddingModel"])
        self.assertEqual(self.ok(self.call("DELETE", "/v1/documents/{document_id}", {"document_id": doc_id})), {})
        self.fails(self.call("GET", "/v1/documents/{document_id}", {"document_id": doc_id}), 404, "NOT_FOUND")
        self.fails(self.call("GET", "/v1/documents/{document_id}/content", {"document_id": doc_id}), 404, "NOT_FOUND")
        self.fails(self.call("DELETE", "/v1/documents/{document_id}", {"document_id": doc_id}), 404, "NOT_FOUND")

    # TicketingService ------------------------------------------------------------------------

    def test_tickets_created_idempotently_listed_by_pages_and_patched(self):
        tag = f"r{self.m}"
        tickets = []
        for index in range(3):
            request = {"title": f"Routes {self.m} #{index}: the printer is on fire", "body": "Smoke everywhere.",
                       "priority": "TICKET_PRIORITY_HIGH", "requester": "routes@example.test", "tags": [tag],
                       "idempotencyKey": f"routes-{self.m}-{index}"}
            created = self.ok(self.call("POST", "/v1/tickets", json=request))
            ticket = created["ticket"]
            self.assertEqual((ticket["status"], ticket["priority"]), ("TICKET_STATUS_OPEN", "TICKET_PRIORITY_HIGH"))
            self.assertEqual(ticket["backend"], "TICKET_BACKEND_BUILTIN")
            self.assertTrue(is_int64(ticket["number"]) and is_int64(ticket["revision"]), ticket)
            tickets.append(ticket)
        replayed = self.ok(self.call("POST", "/v1/tickets", json=request))
        self.assertTrue(replayed["replayed"])
        self.assertEqual(replayed["ticket"]["id"], tickets[-1]["id"])
        self.fails(self.call("POST", "/v1/tickets", json=dict(request, title="another")), 400, "FAILED_PRECONDITION")
        self.fails(self.call("POST", "/v1/tickets", json={"body": "no title"}), 400, "INVALID_ARGUMENT")
        first = tickets[0]
        got = self.ok(self.call("GET", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]}))["ticket"]
        self.assertEqual(got["title"], first["title"])
        by_number = self.ok(self.call("GET", "/v1/tickets/{ticket_id}", {"ticket_id": first["number"]}))["ticket"]
        self.assertEqual(by_number["id"], first["id"])
        # A nested message field as a query parameter.
        builtin = self.ok(self.call("GET", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]},
                                    params={"backend_config.backend": "TICKET_BACKEND_BUILTIN"}))["ticket"]
        self.assertEqual(builtin["id"], first["id"])
        self.fails(self.call("GET", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]},
                             params={"backend_config.backend": "TICKET_BACKEND_NOPE"}), 400, "INVALID_ARGUMENT")
        # Repeated enums in the query; newest first, two per page.
        query = [("tags", tag), ("statuses", "TICKET_STATUS_OPEN"), ("statuses", "TICKET_STATUS_PENDING"),
                 ("priority", "TICKET_PRIORITY_HIGH"), ("page_size", "2")]
        page = self.ok(self.call("GET", "/v1/tickets", params=query))
        self.assertEqual([t["id"] for t in page["tickets"]], [tickets[2]["id"], tickets[1]["id"]])
        rest = self.ok(self.call("GET", "/v1/tickets", params=query + [("page_token", page["nextPageToken"])]))
        self.assertEqual([t["id"] for t in rest["tickets"]], [first["id"]])
        self.assertFalse(rest.get("nextPageToken"))
        patched = self.ok(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]}, json={
            "expectedRevision": first["revision"], "status": "TICKET_STATUS_PENDING", "assignee": "agent@example.test",
            "addTags": ["escalated"], "comment": {"body": "Looking into it.", "agentOnly": True}}))["ticket"]
        self.assertEqual(patched["status"], "TICKET_STATUS_PENDING")
        self.assertEqual(patched["assignee"], "agent@example.test")
        self.assertEqual(sorted(patched["tags"]), sorted([tag, "escalated"]))
        self.assertEqual(patched["comments"][-1]["body"], "Looking into it.")
        self.assertTrue(patched["comments"][-1]["agentOnly"])
        self.assertEqual(patched["title"], first["title"])  # PATCH: what is not set stays
        self.assertGreater(int(patched["revision"]), int(first["revision"]))
        pending = self.ok(self.call("GET", "/v1/tickets",
                                    params=[("tags", tag), ("statuses", "TICKET_STATUS_PENDING")]))
        self.assertEqual([t["id"] for t in pending["tickets"]], [first["id"]])
        self.fails(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]}, json={
            "expectedRevision": first["revision"], "priority": "TICKET_PRIORITY_LOW"}), 409, "ABORTED")
        self.fails(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": first["id"]}, json={}),
                   400, "INVALID_ARGUMENT")
        self.ok(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": tickets[1]["id"]},
                          json={"status": "TICKET_STATUS_CLOSED"}))
        self.fails(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": tickets[1]["id"]},
                             json={"status": "TICKET_STATUS_OPEN"}), 400, "FAILED_PRECONDITION")
        self.fails(self.call("GET", "/v1/tickets/{ticket_id}", {"ticket_id": str(uuid.uuid4())}), 404, "NOT_FOUND")
        self.fails(self.call("PATCH", "/v1/tickets/{ticket_id}", {"ticket_id": str(uuid.uuid4())},
                             json={"title": "x"}), 404, "NOT_FOUND")

    # NotificationService, through a run that opens a ticket and tells the support channel ----

    def test_an_unanswerable_question_makes_a_ticket_and_a_delivery(self):
        created = self.ok(self.call("POST", "/v1/conversations", json={"agentId": self.support_agent}))
        cid = created["conversation"]["id"]
        events = self.stream("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                             json={"content": f"My quantum flux capacitor {self.m} is leaking"})
        self.assertEqual(events[-1]["event"], "assistantMessage", events[-3:])
        self.assertIn("ticket #", events[-1]["data"]["assistantMessage"]["content"])
        run_id = events[-1]["data"]["assistantMessage"]["runId"]
        tickets = self.ok(self.call("GET", "/v1/tickets", params={"conversation_id": cid}))["tickets"]
        self.assertEqual(len(tickets), 1, tickets)
        self.assertEqual(tickets[0]["runId"], run_id)
        deliveries = self.ok(self.call("GET", "/v1/deliveries",
                                       params={"run_id": run_id, "page_size": 10}))["deliveries"]
        self.assertEqual(len(deliveries), 1, deliveries)
        delivery = deliveries[0]
        self.assertIn(delivery["status"], ("DELIVERY_STATUS_PENDING", "DELIVERY_STATUS_DELIVERED"))
        got = self.ok(self.call("GET", "/v1/deliveries/{delivery_id}", {"delivery_id": delivery["id"]}))["delivery"]
        self.assertEqual((got["id"], got["runId"], got["channel"]), (delivery["id"], run_id, delivery["channel"]))
        # Enum filters: the delivery's own channel finds it, another does not.
        same = self.ok(self.call("GET", "/v1/deliveries", params={"run_id": run_id, "channel": delivery["channel"]}))
        self.assertEqual([d["id"] for d in same["deliveries"]], [delivery["id"]])
        other = "CHANNEL_KIND_TEAMS" if delivery["channel"] != "CHANNEL_KIND_TEAMS" else "CHANNEL_KIND_WEBHOOK"
        none = self.ok(self.call("GET", "/v1/deliveries", params={"run_id": run_id, "channel": other}))
        self.assertEqual(none.get("deliveries", []), [])
        first = self.ok(self.call("GET", "/v1/deliveries", params={"page_size": 1}))
        self.assertEqual(len(first["deliveries"]), 1)
        self.fails(self.call("GET", "/v1/deliveries", params={"status": "DELIVERY_STATUS_NOPE"}),
                   400, "INVALID_ARGUMENT")
        self.fails(self.call("GET", "/v1/deliveries/{delivery_id}", {"delivery_id": str(uuid.uuid4())}),
                   404, "NOT_FOUND")

    # LLMGatewayService -----------------------------------------------------------------------

    def test_models_usage_and_provider_config_changed_then_put_back(self):
        models = self.ok(self.call("GET", "/v1/llm/models"))["models"]
        self.assertTrue(models)
        self.assertTrue(any(m.get("isDefaultChat") for m in models), models)
        self.assertTrue(all(m["provider"].startswith("PROVIDER_KIND_") for m in models), models)
        embedding = self.ok(self.call("GET", "/v1/llm/models", params={"capability": "MODEL_CAPABILITY_EMBEDDING"}))
        self.assertTrue(embedding["models"])
        self.assertTrue(all("MODEL_CAPABILITY_EMBEDDING" in m["capabilities"] for m in embedding["models"]))
        one = self.ok(self.call("GET", "/v1/llm/models", params={"page_size": 1}))
        self.assertEqual(len(one["models"]), 1)
        if len(models) > 1:
            self.assertTrue(one["nextPageToken"])
        # The support agent's answers went through the gateway (an llm node), so there is usage.
        usage = self.ok(self.call("GET", "/v1/llm/usage", params={"granularity": "USAGE_GRANULARITY_HOUR"}))
        self.assertTrue(is_int64(usage["totalRequests"]), usage)
        self.assertIsInstance(usage.get("buckets", []), list)
        self.assertIn("limits", usage)
        self.fails(self.call("GET", "/v1/llm/usage", params={"granularity": "USAGE_GRANULARITY_WEEK"}),
                   400, "INVALID_ARGUMENT")
        config = self.ok(self.call("GET", "/v1/llm/provider-config"))["config"]
        self.assertTrue(config["provider"].startswith("PROVIDER_KIND_"), config)
        self.assertNotIn("apiKey", config)
        fields = ("provider", "baseUrl", "routes", "allowedModels", "defaultChatModel", "defaultEmbeddingModel",
                  "limits", "requestTimeout")
        original = {k: config[k] for k in fields if k in config}
        timeout = "61s" if config.get("requestTimeout") != "61s" else "62s"
        try:
            changed = self.ok(self.call("PUT", "/v1/llm/provider-config", json=dict(
                original, requestTimeout=timeout, expectedRevision=config["revision"])))["config"]
            self.assertEqual(changed["requestTimeout"], timeout)
            self.assertGreater(int(changed["revision"]), int(config["revision"]))
            self.assertEqual(self.ok(self.call("GET", "/v1/llm/provider-config"))["config"]["requestTimeout"], timeout)
            # (expected_revision 0 means "any": a tenant that never set one has revision 0.)
            self.fails(self.call("PUT", "/v1/llm/provider-config", json=dict(
                original, expectedRevision=str(int(changed["revision"]) + 1))), 409, "ABORTED")
        finally:
            restored = self.ok(self.call("PUT", "/v1/llm/provider-config", json=original))["config"]
        self.assertEqual({k: restored[k] for k in fields if k in restored}, original)

    # Bugs these tests and schemathesis found: first the fixed ones (regressions, docstrings say
    # what was wrong), then the open ones (expectedFailure: each turns into an "unexpected
    # success" once fixed; then drop the decorator) ----------------------------------------------

    def test_timestamp_query_parameters(self):
        """Was: GetUsage's start_time/end_time are google.protobuf.Timestamp fields, which the OpenAPI
        document offers as `format: date-time` query parameters; the edge refuses them with "a
        message field cannot be set from a parameter" (ProtoJSONRequestBuilder.setParameter)."""
        now = datetime.now(timezone.utc)
        usage = self.ok(self.call("GET", "/v1/llm/usage", params={
            "start_time": rfc3339(now - timedelta(days=1)), "end_time": rfc3339(now + timedelta(minutes=1))}))
        self.assertTrue(is_int64(usage["totalRequests"]), usage)
        self.fails(self.call("GET", "/v1/llm/usage", params={
            "start_time": rfc3339(now), "end_time": rfc3339(now - timedelta(hours=1))}), 400, "INVALID_ARGUMENT")

    def test_api_keys_beyond_the_control_plane(self):
        """Was: docs/EDGE.md: "`Authorization: Bearer <JWT or API key>` works everywhere"; but the edge
        passes the key on as is, and every service but the control plane answers an API key with
        401 ("API keys are verified by the control plane; this service needs a token")."""
        secret = self.ok(self.call("POST", "/v1/users/me/api-keys", json={
            "name": f"routes-everywhere-{self.m}", "roles": ["ROLE_ADMIN"], "ttl": "600s"}))["secret"]
        try:
            for template in ("/v1/runs", "/v1/kb/stats", "/v1/tickets", "/v1/deliveries", "/v1/llm/models"):
                with self.subTest(template):
                    self.ok(self.call("GET", template, token=secret))
        finally:
            key_id = self.ok(self.call("GET", "/v1/auth/whoami", token=secret))["apiKey"]["id"]
            self.ok(self.call("DELETE", "/v1/users/me/api-keys/{api_key_id}", {"api_key_id": key_id}))

    def test_session_login_answer_is_in_the_openapi_document(self):
        """Was: docs/EDGE.md: `POST /v1/auth/login?session=true` answers LoginResponse plus `csrfToken`
        (so does a cookie refresh); the OpenAPI document declares neither the `session` query
        parameter nor `csrfToken`, and its LoginResponse has additionalProperties: false."""
        session = requests.Session()
        EXERCISED.add(("POST", "/v1/auth/login"))
        login = session.post(self.url("/v1/auth/login"), params={"session": "true"}, timeout=TIMEOUT, json={
            "tenantSlug": self.platform.tenant, "email": self.platform.email, "password": self.platform.password})
        login.route = ("POST", "/v1/auth/login")
        try:
            self.assertEqual(login.status_code, 200, login.text)
            self.assertIn("csrfToken", login.json())
            parameters = [p["name"] for p in self.openapi.operation("POST", "/v1/auth/login").get("parameters", [])]
            self.assertIn("session", parameters)
            self.conforms(login, login.json())
        finally:
            out = session.post(self.url("/v1/auth/logout"), json={},
                               headers={"X-CSRF-Token": login.json().get("csrfToken", "")}, timeout=TIMEOUT)
            self.assertEqual(out.status_code, 200, out.text)

    def test_download_of_a_name_with_a_control_character(self):
        """Was: DocumentDownload.disposition keeps DEL (0x7F) in the ASCII `filename="…"` of the
        Content-Disposition header; NIO refuses that header value and the edge closes the
        connection without any response (schemathesis: "Remote end closed connection")."""
        name = f"routes-{self.m}\x7f.txt"
        document = self.ok(self.call("POST", "/v1/documents", params={"name": name, "skip_indexing": "true"},
                                     headers={"Content-Type": "text/plain"}, data=b"delete me"))["document"]
        try:
            download = self.call("GET", "/v1/documents/{document_id}/content", {"document_id": document["id"]})
            self.assertEqual(download.status_code, 200)
            self.assertEqual(download.content, b"delete me")
            self.assertIn("filename*=UTF-8''routes-", download.headers["content-disposition"])
        finally:
            self.ok(self.call("DELETE", "/v1/documents/{document_id}", {"document_id": document["id"]}))

    def test_tenant_expected_revision_beyond_32_bits(self):
        """Was: TenantStore.update binds expected_revision (int64) as `$4 = 0 OR revision = $4`, so
        PostgreSQL types $4 as integer: a value outside 32 bits fails with 22003 ("out of range
        for type integer") and the call answers 500 INTERNAL instead of 409 ABORTED."""
        settings = self.ok(self.call("GET", "/v1/tenant"))["tenant"]["settings"]
        self.fails(self.call("PUT", "/v1/tenant/settings",
                             json={"settings": settings, "expectedRevision": "4294967296"}), 409, "ABORTED")

    def test_resume_conversation_refuses_an_answer_outside_the_choices_without_saving_it(self):
        """Was: ResumeConversation saved the answer as a user message first and streamed it (200),
        then ended the stream with an `error` event INVALID_ARGUMENT: the refused answer stayed in
        the history. Now the control plane checks the choices before saving: a plain 400."""
        agent = self.ok(self.call("POST", "/v1/agents", json={
            "name": f"routes-choices-{self.m}", "flowJson": APPROVAL_FLOW}))["agent"]
        cid = self.ok(self.call("POST", "/v1/conversations", json={"agentId": agent["id"]}))["conversation"]["id"]
        events = self.stream("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                             json={"content": "refund 8"})
        try:
            interrupt = events[-1]["data"]["event"]["interrupt"]
            refused = self.call("POST", "/v1/conversations/{conversation_id}/resume", {"conversation_id": cid},
                                json={"input": {"interruptId": interrupt["interruptId"], "text": "maybe"}})
            messages = self.ok(self.call("GET", "/v1/conversations/{conversation_id}/messages",
                                         {"conversation_id": cid}))["messages"]
            self.assertEqual([m["content"] for m in messages], ["refund 8"])
            self.assertEqual(refused.status_code, 400, refused.text)
        finally:
            # The run still waits for input: cancel it, or the agent cannot be deleted.
            self.ok(self.call("POST", "/v1/runs/{run_id}/cancel", {"run_id": events[-1]["data"]["event"]["runId"]},
                              json={"reason": "routes test"}))
            self.ok(self.call("DELETE", "/v1/agents/{agent_id}", {"agent_id": agent["id"]}))

    def test_send_message_after_the_agent_was_deleted_is_refused_without_saving(self):
        """Was: SendMessage saved the user message and streamed it (200), then ended the stream with
        an `error` event NOT_FOUND ("no agent … version 0"); every retry saved one more message.
        Now the agent is read before the message is saved: FAILED_PRECONDITION, nothing saved."""
        agent = self.ok(self.call("POST", "/v1/agents", json={
            "name": f"routes-deleted-{self.m}", "flowJson": APPROVAL_FLOW}))["agent"]
        cid = self.ok(self.call("POST", "/v1/conversations", json={"agentId": agent["id"]}))["conversation"]["id"]
        self.ok(self.call("DELETE", "/v1/agents/{agent_id}", {"agent_id": agent["id"]}))
        sent = self.call("POST", "/v1/conversations/{conversation_id}/messages", {"conversation_id": cid},
                         json={"content": "anyone there?"})
        messages = self.ok(self.call("GET", "/v1/conversations/{conversation_id}/messages",
                                     {"conversation_id": cid}))
        self.assertEqual(messages.get("messages", []), [])
        self.fails(sent, 400, "FAILED_PRECONDITION")

    # Every rule ------------------------------------------------------------------------------

    def test_zz_every_http_rule_was_exercised(self):
        """Runs last (by name): every binding of http.yaml was called by some test above."""
        others = {name for name in unittest.TestLoader().getTestCaseNames(RoutesTest) if name != self._testMethodName}
        if not others <= RoutesTest.ran:
            self.skipTest(f"only part of the tests ran ({len(RoutesTest.ran) - 1} of {len(others)})")
        bindings = http_bindings()
        self.assertGreaterEqual(len(bindings), 60)
        self.assertEqual(EXERCISED - bindings, set(), "called routes that are not in http.yaml")
        missing = sorted(bindings - EXERCISED, key=lambda b: (b[1], b[0]))
        self.assertEqual(missing, [], "http.yaml bindings no test exercised")


if __name__ == "__main__":
    unittest.main()
