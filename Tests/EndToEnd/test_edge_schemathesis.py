"""schemathesis against the live edge: property-based requests for every operation of the OpenAPI
document the edge serves (``GET /openapi.json``), checking that none is answered with a 5xx and
that every answer matches the schema the document gives for its operation and status.

The run signs in as the owner of a tenant made for it (TenantService.CreateTenant with the
platform's bootstrap token): what it creates, changes and deletes — tenant settings, the
provider configuration, users, agents, tools, tickets — stays in that tenant, so the other tests
sharing the platform keep the demo tenant as the seed left it. Before the run, that tenant gets a
few objects of each kind (agents whose flows need no tool, a conversation waiting for input and
one whose run finished, a tool, a delivery, a ticket, a document), whose ids schemathesis uses
for half of the generated path parameters — else nearly every call with an id would stop at
NOT_FOUND, and the answers that carry data (event streams above all) would go unchecked.

Excluded so the run keeps its credentials: Logout, RevokeApiKey, DeleteUser and UpdateUserRoles.
Login and Refresh run with fewer examples and without the coverage phase: each failed sign-in
counts against the per-address limit (LOGIN_MAX_FAILURES_PER_ADDRESS, 50 per 15 minutes), failed
refresh tokens against CREDENTIAL_FAILURES_PER_ADDRESS, and the Redis that counts them is shared
by every platform on the machine. So do ChangePassword and ResetPassword, which spend a password
hash per call (ChangePassword's wrong passwords count against the run's own owner only). The streaming operations (SendMessage, ResumeConversation,
WatchConversation, Execute, Resume, WatchRun, ReplayRun) stay in: generated ids answer at once
(404 or 400), and the seeded flows finish or pause within milliseconds (the built-in provider),
so they neither slow the run down nor make it flaky.

schemathesis is pinned (``PIN``); scripts/deps installs it. When the installed version differs
(or there is none), the test makes a virtualenv of its own under .data/venvs/schemathesis.
Knobs: AGENTPLANE_SCHEMATHESIS_EXAMPLES (examples per operation, default 40),
AGENTPLANE_SCHEMATHESIS_SEED (default a fixed seed; ``random`` for a new one each run).
"""

import importlib.metadata
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import requests

import platform_fixture

PIN = "4.32.5"
VENV = Path(os.environ.get("AGENTPLANE_SCHEMATHESIS_VENV", platform_fixture.REPO / ".data" / "venvs" / "schemathesis"))
TIMEOUT = 60
# Operations whose success would end or weaken the run's own credentials.
EXCLUDED = ("AuthService_Logout", "UserService_RevokeApiKey", "UserService_DeleteUser", "UserService_UpdateUserRoles")
# Sign-in attempts and refresh tokens count against per-address limits shared across platforms;
# a password change or reset spends a password hash (a tenth of a second of a core) per call.
RATE_LIMITED = ("AuthService_Login", "AuthService_Refresh", "AuthService_ChangePassword", "UserService_ResetPassword")
CHECKS = "not_a_server_error,response_schema_conformance"
# Flows that need no tool: one pauses for a person, one answers through the LLM gateway.
APPROVAL_FLOW = json.dumps({
    "entry": "ask", "state": {"approval": {"type": "string"}},
    "nodes": [{"id": "ask", "kind": "human_input", "prompt": "Approve {{input}}?", "choices": ["yes", "no"],
               "output": "approval", "next": "done"},
              {"id": "done", "kind": "end", "answer": "You said {{state.approval}}."}]})
ANSWER_FLOW = json.dumps({"entry": "answer", "nodes": [{"id": "answer", "kind": "llm", "prompt": "{{input}}",
                                                        "output": "answer"}]})
# Generated parameters that take a seeded id half of the time: (parameter, dictionary).
SEEDED_PARAMETERS = (
    ("path.agent_id", "agents"), ("path.conversation_id", "conversations"), ("path.run_id", "runs"),
    ("path.tool_id", "tools"), ("path.ticket_id", "tickets"), ("path.document_id", "documents"),
    ("path.user_id", "users"), ("path.delivery_id", "deliveries"), ("body.agentId", "agents"),
    ("body.checkpointId", "checkpoints"),
)


def schemathesis_command() -> list[str]:
    """How to run schemathesis ``PIN``: this Python when it has that version, else a virtualenv."""
    try:
        if importlib.metadata.version("schemathesis") == PIN:
            return [sys.executable, "-m", "schemathesis.cli"]
    except importlib.metadata.PackageNotFoundError:
        pass
    python = VENV / "bin" / "python"
    wanted = f"schemathesis=={PIN}"
    marker = VENV / "agentplane-requirements.txt"
    if not python.exists() or not marker.exists() or marker.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wanted], check=True
        )
        marker.write_text(wanted)
    return [str(python), "-m", "schemathesis.cli"]


def toml_string(value: str) -> str:
    """A TOML basic string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SchemathesisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.base = cls.platform.env["AGENTPLANE_EDGE_URL"]
        cls.command = schemathesis_command()
        # A tenant of the run's own, and its owner's access token (valid 15 minutes).
        bootstrap = Path(cls.platform.env["AGENTPLANE_BOOTSTRAP_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
        slug = f"fuzz-{secrets.token_hex(4)}"
        email, password = f"owner@{slug}.test", secrets.token_urlsafe(18)
        created = requests.post(
            cls.base + "/v1/tenants",
            headers={"Authorization": f"Bearer {bootstrap}"},
            json={"slug": slug, "displayName": "schemathesis", "ownerEmail": email, "ownerPassword": password},
            timeout=TIMEOUT,
        )
        assert created.status_code == 200, created.text
        login = requests.post(
            cls.base + "/v1/auth/login", json={"tenantSlug": slug, "email": email, "password": password},
            timeout=TIMEOUT,
        )
        assert login.status_code == 200, login.text
        cls.token = login.json()["tokens"]["accessToken"]
        cls.dictionaries = cls.seed()

    @classmethod
    def seed(cls) -> dict[str, list[str]]:
        """Objects of each kind in the run's tenant; their ids by dictionary name."""
        headers = {"Authorization": f"Bearer {cls.token}"}

        def call(verb, path, **kwargs):
            kwargs["headers"] = dict(headers, **kwargs.get("headers", {}))
            response = requests.request(verb, cls.base + path, timeout=TIMEOUT, **kwargs)
            assert response.status_code == 200, f"{verb} {path}: {response.text}"
            return response.json()

        def send(conversation, content):
            """Sends a message; returns the run's id and its checkpoints' ids."""
            run, checkpoints = "", []
            with requests.post(cls.base + f"/v1/conversations/{conversation}/messages", headers=headers,
                               json={"content": content}, stream=True, timeout=TIMEOUT) as response:
                assert response.status_code == 200, response.text
                for line in response.iter_lines(decode_unicode=True):
                    if line and line.startswith("data:"):
                        event = json.loads(line[5:]).get("event") or {}
                        run = event.get("runId", run)
                        if "nodeFinished" in event:
                            checkpoints.append(event["nodeFinished"]["checkpointId"])
            assert run, f"no run for {content!r}"
            return run, checkpoints

        ids = {name: [] for name in dict.fromkeys(name for _, name in SEEDED_PARAMETERS)}
        for index, flow in enumerate((APPROVAL_FLOW, ANSWER_FLOW)):
            agent = call("POST", "/v1/agents", json={"name": f"seeded-{index}", "flowJson": flow})["agent"]["id"]
            conversation = call("POST", "/v1/conversations", json={"agentId": agent})["conversation"]["id"]
            run, checkpoints = send(conversation, "refund for order 42" if index == 0 else "How do I reset it?")
            ids["agents"].append(agent)
            ids["conversations"].append(conversation)
            ids["runs"].append(run)
            ids["checkpoints"] += checkpoints
        kb_tool = call("POST", "/v1/tools", json={
            "name": "seeded-kb", "kind": "TOOL_KIND_KB_SEARCH", "config": {"mode": "lexical"}, "enabled": True})
        ids["tools"].append(kb_tool["tool"]["id"])
        notify = call("POST", "/v1/tools", json={
            "name": "seeded-log", "kind": "TOOL_KIND_NOTIFICATION", "config": {"channel": "log"}, "enabled": True})
        ids["tools"].append(notify["tool"]["id"])
        call("POST", f"/v1/tools/{notify['tool']['id']}/execute", json={"arguments": {"text": "seeded"}})
        ids["deliveries"] = [d["id"] for d in call("GET", "/v1/deliveries")["deliveries"]]
        ticket = call("POST", "/v1/tickets", json={"title": "seeded", "body": "A seeded ticket."})["ticket"]
        ids["tickets"] += [ticket["id"], ticket["number"]]
        ids["documents"].append(call(
            "POST", "/v1/documents", params={"name": "seeded.md", "skip_indexing": "true"},
            headers={"Content-Type": "text/markdown"}, data=b"# Seeded\n\nA seeded document.\n",
        )["document"]["id"])
        ids["users"].append(call("GET", "/v1/auth/whoami")["user"]["id"])
        member = call("POST", "/v1/users", json={
            "email": "member@seeded.test", "password": secrets.token_urlsafe(18), "roles": ["ROLE_MEMBER"]})
        ids["users"].append(member["user"]["id"])
        for name, values in ids.items():
            assert values, f"nothing seeded for {name}"
        return ids

    def test_no_server_error_and_every_answer_matches_the_schema(self):
        examples = int(os.environ.get("AGENTPLANE_SCHEMATHESIS_EXAMPLES", "40"))
        seed = os.environ.get("AGENTPLANE_SCHEMATHESIS_SEED", "20261207")
        work = Path(tempfile.mkdtemp(prefix="agentplane-schemathesis-"))
        self.addCleanup(shutil.rmtree, work, True)
        config = work / "schemathesis.toml"
        # The token goes in the config file (mode 0600), not on the command line.
        lines = [f"headers = {{ Authorization = {toml_string('Bearer ' + self.token)} }}", ""]
        for name, values in self.dictionaries.items():
            lines += [f"[dictionaries.{name}]", "values = [" + ", ".join(toml_string(v) for v in values) + "]", ""]
        lines.append("[parameters]")
        lines += [f"{toml_string(parameter)} = {{ dictionary = {toml_string(name)}, probability = 0.5 }}"
                  for parameter, name in SEEDED_PARAMETERS]
        lines += [
            "",
            "[[operations]]",
            "include-operation-id = [" + ", ".join(toml_string(o) for o in RATE_LIMITED) + "]",
            "phases.coverage.enabled = false",
            "generation.max-examples = 8",
            "",
        ]
        config.write_text("\n".join(lines), encoding="utf-8")
        config.chmod(0o600)
        arguments = [
            "--config-file", str(config), "--no-color",
            "run", f"{self.base}/openapi.json",
            *[part for operation in EXCLUDED for part in ("--exclude-operation-id", operation)],
            "--checks", CHECKS,
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(examples),
            "--generation-with-security-parameters", "false",
            "--generation-database", "none",
            "--request-timeout", "30",
            "--workers", "1",
        ]
        if seed != "random":
            arguments += ["--seed", seed]
        started = time.monotonic()
        result = subprocess.run(
            [*self.command, *arguments], cwd=work, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=600,
        )
        elapsed = time.monotonic() - started
        report = (result.stdout + result.stderr).replace(self.token, "<token>")
        print(f"\nschemathesis {PIN}: exit {result.returncode} in {elapsed:.0f} s", file=sys.stderr)
        self.assertEqual(result.returncode, 0, f"schemathesis exited {result.returncode}:\n{report[-12000:]}")
        # It really ran every operation but the excluded ones.
        document = requests.get(self.base + "/openapi.json", timeout=TIMEOUT).json()
        operations = {
            o["operationId"] for path in document["paths"].values() for o in path.values() if "operationId" in o
        }
        self.assertLessEqual(set(EXCLUDED) | set(RATE_LIMITED), operations)
        self.assertRegex(report, rf"Tested:\s+{len(operations) - len(EXCLUDED)}\b", report[-3000:])


if __name__ == "__main__":
    unittest.main()
