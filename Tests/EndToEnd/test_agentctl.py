"""agentctl end to end: the real binary against the shared platform (platform_fixture.shared()).

Every test runs the command line as a user would and checks its exit code and output: login,
whoami, agent versions, flow validation, documents, chat (both scenario questions), tickets,
deliveries, health and the exit codes for usage errors and missing logins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest
import uuid
from pathlib import Path

import platform_fixture

REPO = Path(__file__).resolve().parents[2]
SUPPORT_FLOW = REPO / "examples" / "support-agent.flow.json"
KB_QUESTION = "How do I reset my password?"


class AgentctlTestCase(unittest.TestCase):
    """Runs agentctl with its own config folder, logged in as the demo owner."""

    platform: platform_fixture.Platform
    config_dir: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.platform = platform_fixture.shared()
        cls.config_dir = tempfile.mkdtemp(prefix="agentctl-config-")
        cls.addClassCleanup(shutil.rmtree, cls.config_dir, True)
        login = cls.run_cli(
            "login", "--tenant", cls.platform.tenant, "--email", cls.platform.email, "--password-stdin",
            input=cls.platform.password + "\n",
        )
        if login.returncode != 0:
            raise RuntimeError(f"agentctl login failed:\n{login.stdout}{login.stderr}")

    @classmethod
    def run_cli(
        cls, *args: str, input: str | None = None, config_dir: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """Runs agentctl against the shared platform; never raises on a non-zero exit."""
        env = dict(os.environ)
        env.pop("AGENTPLANE_PASSWORD", None)
        env.update(
            AGENTPLANE_SERVER=cls.platform.addr("control"),
            AGENTPLANE_TICKETING=cls.platform.addr("ticketing"),
            AGENTPLANE_NOTIFICATION=cls.platform.addr("notification"),
            AGENTPLANE_CONFIG_DIR=config_dir or cls.config_dir,
        )
        return subprocess.run(
            [cls.platform.agentctl, *args],
            cwd=REPO,
            env=env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Runs agentctl and fails the test unless it exits 0."""
        result = self.run_cli(*args, input=input)
        self.assertEqual(
            result.returncode, 0, f"agentctl {' '.join(args)}:\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
        return result

    def json_of(self, *args: str) -> dict:
        """Runs agentctl with --json and parses its one line of output."""
        result = self.ok(*args, "--json")
        lines = result.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stdout)
        return json.loads(lines[0])

    def chat_events(self, agent: str, message: str) -> list[dict]:
        """Chats once with --json; every line must be one JSON object."""
        result = self.ok("chat", agent, "--message", message, "--json")
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


class LoginTests(AgentctlTestCase):
    def test_login_stores_private_credentials_and_whoami_shows_the_owner(self) -> None:
        config = tempfile.mkdtemp(prefix="agentctl-login-")
        self.addCleanup(shutil.rmtree, config, True)
        result = self.run_cli(
            "login", "--tenant", self.platform.tenant, "--email", self.platform.email, "--password-stdin",
            input=self.platform.password + "\n", config_dir=config,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(self.platform.email, result.stdout)
        credentials = Path(config) / "credentials.json"
        self.assertEqual(credentials.stat().st_mode & 0o777, 0o600)
        self.assertNotIn(self.platform.password, credentials.read_text())

        whoami = self.run_cli("whoami", config_dir=config)
        self.assertEqual(whoami.returncode, 0, whoami.stderr)
        self.assertIn(self.platform.email, whoami.stdout)
        self.assertIn(self.platform.tenant, whoami.stdout)
        self.assertIn("owner", whoami.stdout)

        logout = self.run_cli("logout", config_dir=config)
        self.assertEqual(logout.returncode, 0, logout.stderr)
        self.assertFalse(credentials.exists())
        after = self.run_cli("whoami", config_dir=config)
        self.assertEqual(after.returncode, 3, after.stderr)

    def test_wrong_password_exits_1_with_unauthenticated(self) -> None:
        config = tempfile.mkdtemp(prefix="agentctl-login-")
        self.addCleanup(shutil.rmtree, config, True)
        result = self.run_cli(
            "login", "--tenant", self.platform.tenant, "--email", self.platform.email,
            "--password", "not-the-password-" + uuid.uuid4().hex, config_dir=config,
        )
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertTrue(result.stderr.startswith("error: UNAUTHENTICATED: "), result.stderr)
        self.assertFalse((Path(config) / "credentials.json").exists())

    def test_whoami_json_names_user_tenant_and_roles(self) -> None:
        me = self.json_of("whoami")
        self.assertEqual(me["user"]["email"], self.platform.email)
        self.assertEqual(me["tenant"]["slug"], self.platform.tenant)
        self.assertIn("owner", me["roles"])

    def test_not_logged_in_exits_3(self) -> None:
        empty = tempfile.mkdtemp(prefix="agentctl-empty-")
        self.addCleanup(shutil.rmtree, empty, True)
        for args in (("whoami",), ("agents", "list"), ("tickets", "list")):
            result = self.run_cli(*args, config_dir=empty)
            self.assertEqual(result.returncode, 3, f"{args}: {result.stdout}{result.stderr}")
            self.assertIn("not logged in", result.stderr)

    def test_an_expired_access_token_is_refreshed_and_the_rotated_pair_saved(self) -> None:
        config = tempfile.mkdtemp(prefix="agentctl-refresh-")
        self.addCleanup(shutil.rmtree, config, True)
        login = self.run_cli(
            "login", "--tenant", self.platform.tenant, "--email", self.platform.email, "--password-stdin",
            input=self.platform.password + "\n", config_dir=config,
        )
        self.assertEqual(login.returncode, 0, login.stderr)
        path = Path(config) / "credentials.json"
        stored = json.loads(path.read_text())
        stored["access_token_expires_at"] = "2020-01-01T00:00:00Z"
        path.write_text(json.dumps(stored))

        whoami = self.run_cli("whoami", "--json", config_dir=config)
        self.assertEqual(whoami.returncode, 0, whoami.stderr)
        self.assertEqual(json.loads(whoami.stdout)["user"]["email"], self.platform.email)
        rotated = json.loads(path.read_text())
        self.assertNotEqual(rotated["refresh_token"], stored["refresh_token"])
        self.assertNotEqual(rotated["access_token"], stored["access_token"])
        self.assertEqual(path.stat().st_mode & 0o777, 0o600)

    def test_server_list_skips_a_replica_that_is_down(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        servers = f"127.0.0.1:{closed},{self.platform.addr('control')}"
        for _ in range(3):
            result = self.run_cli("whoami", "--server", servers)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn(self.platform.email, result.stdout)

    def test_usage_errors_exit_2(self) -> None:
        for args in (("agents", "list", "--no-such-option"), ("tools", "create", "--name", "x", "--kind", "nope"),
                     ("health",), ("frobnicate",)):
            result = self.run_cli(*args)
            self.assertEqual(result.returncode, 2, f"{args}: {result.stdout}{result.stderr}")
            self.assertTrue(result.stderr.startswith("error: "), result.stderr)


class AgentTests(AgentctlTestCase):
    def test_create_update_versions_rollback_delete(self) -> None:
        name = f"cli-agent-{uuid.uuid4().hex[:8]}"
        created = self.json_of("agents", "create", "--file", str(SUPPORT_FLOW), "--name", name)
        self.assertEqual(created["name"], name)
        self.assertEqual(created["version"], 1)
        self.addCleanup(self.run_cli, "agents", "delete", created["id"])

        updated = self.json_of("agents", "update", name, "--file", str(SUPPORT_FLOW), "--message", "second save")
        self.assertEqual(updated["version"], 2)
        self.assertEqual(updated["change_message"], "second save")

        versions = self.json_of("agents", "versions", name)["versions"]
        self.assertEqual([v["version"] for v in versions], [2, 1])
        table = self.ok("agents", "versions", name).stdout.splitlines()
        self.assertEqual(table[0].split()[:2], ["VERSION", "CREATED"])
        self.assertIn("second save", table[1])

        rolled = self.json_of("agents", "rollback", name, "--to", "1")
        self.assertEqual(rolled["version"], 3)
        self.assertEqual(rolled["restored_from_version"], 1)
        first = self.json_of("agents", "get", name, "--version", "1")
        self.assertEqual(json.loads(first["flow_json"]), json.loads(SUPPORT_FLOW.read_text()))
        self.assertEqual(first["latest_version"], 3)

        listed = self.json_of("agents", "list", "--name", name)["agents"]
        self.assertEqual([a["name"] for a in listed], [name])
        self.assertIn(name, self.ok("agents", "list").stdout)

        self.ok("agents", "delete", name)
        missing = self.run_cli("agents", "get", name)
        self.assertEqual(missing.returncode, 1)
        self.assertTrue(missing.stderr.startswith("error: NOT_FOUND: "), missing.stderr)

    def test_validate_lists_every_error_path_and_exits_1(self) -> None:
        broken = json.loads(SUPPORT_FLOW.read_text())
        broken["entry"] = "nowhere"
        broken["nodes"][0]["kind"] = "teleport"
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(broken, handle)
        self.addCleanup(os.unlink, handle.name)

        result = self.run_cli("agents", "validate", "--file", handle.name)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("$.entry", result.stdout)
        self.assertIn("$.nodes[0].kind", result.stdout)

        as_json = self.run_cli("agents", "validate", "--file", handle.name, "--json")
        self.assertEqual(as_json.returncode, 1)
        report = json.loads(as_json.stdout)
        self.assertFalse(report["valid"])
        self.assertIn("$.nodes[0].kind", [error["field"] for error in report["errors"]])

        # Saving it fails the same way, as an RPC error with the violations as detail lines.
        create = self.run_cli("agents", "create", "--file", handle.name, "--name", f"broken-{uuid.uuid4().hex[:8]}")
        self.assertEqual(create.returncode, 1)
        self.assertTrue(create.stderr.startswith("error: INVALID_ARGUMENT: "), create.stderr)
        self.assertIn("  - $.nodes[0].kind: ", create.stderr)

        valid = self.run_cli("agents", "validate", "--file", str(SUPPORT_FLOW))
        self.assertEqual(valid.returncode, 0, valid.stdout + valid.stderr)


class ToolAndDocumentTests(AgentctlTestCase):
    def test_tools_list_shows_the_demo_tools(self) -> None:
        tools = {t["name"]: t for t in self.json_of("tools", "list")["tools"]}
        for name in ("kb_search", "ticketing", "notification"):
            self.assertIn(name, tools)
            self.assertTrue(tools[name]["enabled"])
        self.assertEqual(self.json_of("tools", "get", "kb_search")["kind"], "kb_search")

    def test_tool_create_get_delete_with_a_secret_that_is_never_shown(self) -> None:
        name = f"cli-notify-{uuid.uuid4().hex[:8]}"
        secret = "https://hooks.example.com/" + uuid.uuid4().hex
        created = self.json_of(
            "tools", "create", "--name", name, "--kind", "notification", "--config", '{"channel": "webhook"}',
            "--secret", f"url={secret}", "--description", "test hook",
        )
        self.assertEqual(created["secret_names"], ["url"])
        shown = self.ok("tools", "get", name).stdout
        self.assertIn("webhook", shown)
        self.assertNotIn(secret, shown)

        # update keeps what is not given, merges secrets and bumps the revision.
        updated = self.json_of(
            "tools", "update", name, "--enabled", "false", "--secret", "signing_secret=s3cret",
            "--description", "changed",
        )
        self.assertFalse(updated["enabled"])
        self.assertEqual(updated["description"], "changed")
        self.assertEqual(updated["config"], {"channel": "webhook"})
        self.assertEqual(sorted(updated["secret_names"]), ["signing_secret", "url"])
        self.assertEqual(updated["revision"], created["revision"] + 1)
        invalid = self.run_cli("tools", "update", name, "--config", '{"channel": "carrier-pigeon"}')
        self.assertEqual(invalid.returncode, 1)
        self.assertIn("  - config.channel: ", invalid.stderr)

        self.ok("tools", "delete", name)
        self.assertEqual(self.run_cli("tools", "get", name).returncode, 1)

    def test_docs_upload_wait_list_get_delete(self) -> None:
        marker = uuid.uuid4().hex
        with tempfile.NamedTemporaryFile("w", suffix=".md", prefix="cli-doc-", delete=False) as handle:
            handle.write(f"# Parking the office bicycle {marker}\n\nBicycles are parked in the basement rack.\n")
        self.addCleanup(os.unlink, handle.name)
        name = Path(handle.name).name

        uploaded = self.json_of("docs", "upload", handle.name, "--tag", "cli-test", "--wait")
        self.assertEqual(uploaded["name"], name)
        self.assertEqual(uploaded["status"], "ready")
        self.assertGreaterEqual(uploaded["chunk_count"], 1)

        listed = self.json_of("docs", "list", "--tag", "cli-test")["documents"]
        self.assertIn(uploaded["id"], [d["id"] for d in listed])
        table = self.ok("docs", "list").stdout
        self.assertIn(name, table)
        self.assertEqual(self.json_of("docs", "get", uploaded["id"])["sha256"], uploaded["sha256"])

        self.ok("docs", "delete", uploaded["id"])
        gone = self.run_cli("docs", "get", uploaded["id"])
        self.assertEqual(gone.returncode, 1)
        self.assertIn("NOT_FOUND", gone.stderr)


class ChatTests(AgentctlTestCase):
    def test_kb_question_is_answered_from_the_knowledge_base(self) -> None:
        result = self.ok("chat", "support-agent", "--message", KB_QUESTION)
        lines = result.stdout.splitlines()
        self.assertIn("→ kb_lookup (tool)", lines)
        self.assertTrue(any(re.fullmatch(r"✓ kb_lookup \d+ ms", line) for line in lines), lines)
        self.assertIn("→ answer_from_kb (llm)", lines)
        self.assertNotIn("→ create_ticket (tool)", lines)
        # The final answer follows the run's summary line (it may span several lines).
        summary = next(i for i, line in enumerate(lines) if line.startswith("✔ run finished"))
        answer = "\n".join(lines[summary + 1:]).strip()
        self.assertIn("reset", answer.lower())

        events = self.chat_events("support-agent", KB_QUESTION)
        types = [e["type"] for e in events]
        self.assertEqual(types[0], "conversation")
        self.assertEqual(types[1], "user_message")
        self.assertEqual(types[-2:], ["run_finished", "assistant_message"])
        deltas = "".join(e["text"] for e in events if e["type"] == "answer_delta")
        self.assertEqual(deltas, events[-2]["answer"])
        self.assertEqual(events[-1]["message"]["content"], events[-2]["answer"])

    def test_off_topic_question_opens_a_ticket_and_notifies_support(self) -> None:
        question = f"Can you repair the hydraulic brakes of my forklift {uuid.uuid4().hex[:6]}?"
        events = self.chat_events("support-agent", question)
        conversation = events[0]["conversation_id"]
        finished = [e for e in events if e["type"] == "run_finished"]
        self.assertEqual(len(finished), 1, events)
        match = re.match(r"I created ticket #(\d+) ", finished[0]["answer"])
        self.assertIsNotNone(match, finished[0]["answer"])
        number = int(match.group(1))

        tickets = self.json_of("tickets", "list", "--conversation", conversation)["tickets"]
        self.assertEqual([t["number"] for t in tickets], [number])
        self.assertIn(question, tickets[0]["title"])
        self.assertEqual(tickets[0]["status"], "open")
        self.assertIn(f"#{number}", self.ok("tickets", "list").stdout)

        run_id = finished[0]["run_id"]
        deliveries = self.json_of("deliveries", "list", "--run", run_id)["deliveries"]
        self.assertEqual(len(deliveries), 1, deliveries)
        self.assertEqual(deliveries[0]["conversation_id"], conversation)
        self.assertIn(deliveries[0]["id"], self.ok("deliveries", "list").stdout)

        messages = self.json_of("conversations", "messages", conversation)["messages"]
        self.assertEqual([(m["role"], m["content"]) for m in messages],
                         [("user", question), ("assistant", finished[0]["answer"])])
        self.assertIn(conversation, self.ok("conversations", "list").stdout)

    def test_stdin_sends_one_message_per_line_in_one_conversation(self) -> None:
        result = self.ok("chat", "support-agent", "--json", input=f"{KB_QUESTION}\n\n{KB_QUESTION}\n")
        events = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual(sum(1 for e in events if e["type"] == "user_message"), 2)
        self.assertEqual(sum(1 for e in events if e["type"] == "assistant_message"), 2)
        conversation = events[0]["conversation_id"]
        messages = self.json_of("conversations", "messages", conversation)["messages"]
        self.assertEqual([m["role"] for m in messages], ["user", "assistant", "user", "assistant"])

    def test_chat_with_an_unknown_agent_exits_1(self) -> None:
        result = self.run_cli("chat", f"no-such-agent-{uuid.uuid4().hex[:6]}", "--message", "hello")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("error: NOT_FOUND: "), result.stderr)


class HealthTests(AgentctlTestCase):
    def test_serving_service_exits_0(self) -> None:
        for service in ("control", "kb-search", "ticketing"):
            result = self.run_cli("health", "--address", self.platform.addr(service))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout.strip(), "SERVING")
        report = self.json_of("health", "--address", self.platform.addr("control"))
        self.assertEqual(report["status"], "SERVING")

    def test_closed_port_exits_non_zero(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = self.run_cli("health", "--address", f"127.0.0.1:{port}", "--timeout", "3")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("UNAVAILABLE", result.stderr)

    def test_health_needs_no_login(self) -> None:
        empty = tempfile.mkdtemp(prefix="agentctl-empty-")
        self.addCleanup(shutil.rmtree, empty, True)
        result = self.run_cli("health", "--address", self.platform.addr("control"), config_dir=empty)
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    unittest.main()
