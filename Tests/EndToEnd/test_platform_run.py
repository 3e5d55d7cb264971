"""scripts/platform and scripts/run (make run) on a platform of their own.

The platform here is separate from the shared one (its own AGENTPLANE_HOME, database and ports
AGENTPLANE_E2E_BASE_PORT + 50), since these tests stop and restart it. Its first `up` builds;
the later ones reuse those binaries (AGENTPLANE_SKIP_BUILD=1).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

import json

import requests

import platform_fixture
from platform_fixture import REPO, SERVICES, Platform

KB_QUESTION = "How do I reset my password?"
KB_SENTENCE = "To reset your password, open the sign-in page"
TICKET_QUESTION = "The mobile app crashes every time I open the camera scanner, can you look into it?"


class PlatformScriptTests(unittest.TestCase):
    """up / seed / status / down / run against one platform started for this class."""

    platform: Platform

    @classmethod
    def setUpClass(cls) -> None:
        base = int(os.environ.get("AGENTPLANE_E2E_BASE_PORT", "7400")) + 50
        home = Path(tempfile.mkdtemp(prefix="agentplane-run-test-"))
        cls.platform = Platform(
            home=home,
            base_port=base,
            replicas="",
            db_name=f"agentplane_e2e_run_{os.getpid()}",
        )
        cls.addClassCleanup(cls._cleanup)
        cls.platform.up()
        # Built once; the restarts below use those binaries.
        cls.platform.extra_env["AGENTPLANE_SKIP_BUILD"] = "1"

    @classmethod
    def _cleanup(cls) -> None:
        cls.platform._started = True
        cls.platform.down()
        platform_fixture.drop_database(cls.platform.db_name)
        shutil.rmtree(cls.platform.home, ignore_errors=True)

    # Helpers --------------------------------------------------------------------------------

    def pids(self) -> dict[str, int | None]:
        return {service: self.platform.pid(service) for service in SERVICES}

    def secrets(self) -> dict[str, bytes]:
        folder = self.platform.home / "secrets"
        return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}

    def inventory(self) -> dict[str, list]:
        """What the demo tenant holds: tool names, agents (name, latest version), documents."""
        pb = platform_fixture.stubs()
        c = pb.control_pb2
        metadata = self.platform.metadata(self.platform.login())
        with self.platform.channel("control") as channel:
            tools = pb.control_pb2_grpc.ToolServiceStub(channel).ListTools(
                c.ListToolsRequest(page_size=100), metadata=metadata, timeout=30
            ).tools
            agents = pb.control_pb2_grpc.AgentServiceStub(channel).ListAgents(
                c.ListAgentsRequest(page_size=100), metadata=metadata, timeout=30
            ).agents
            documents = pb.control_pb2_grpc.DocumentServiceStub(channel).ListDocuments(
                c.ListDocumentsRequest(page_size=100), metadata=metadata, timeout=30
            ).documents
        return {
            "tools": sorted((t.name, t.enabled) for t in tools),
            "agents": sorted((a.name, a.latest_version) for a in agents),
            "documents": sorted((d.name, c.DocumentStatus.Name(d.status)) for d in documents),
        }

    # Tests ----------------------------------------------------------------------------------

    def test_up_writes_platform_env_with_every_address_and_the_login(self) -> None:
        env = self.platform.env
        base = self.platform.base_port
        for index, service in enumerate(SERVICES, start=1):
            key = service.upper().replace("-", "_")
            self.assertEqual(env[f"{key}_ADDR"], f"127.0.0.1:{base + index}")
            self.assertEqual(env[f"{key}_ADMIN_PORTS"], str(base + 100 + index))
        self.assertEqual(env["AGENTPLANE_TENANT"], "demo")
        self.assertEqual(env["AGENTPLANE_EMAIL"], "owner@demo.local")
        password_file = self.platform.home / "secrets" / "owner_password"
        self.assertEqual(env["AGENTPLANE_PASSWORD"], password_file.read_text())
        self.assertTrue(env["DATABASE_URL"].endswith(f"/{self.platform.db_name}"))
        self.assertTrue(env["REDIS_URL"].startswith("redis://"))
        self.assertEqual(env["AGENTPLANE_EDGE_URL"], f"http://127.0.0.1:{base}")

    def test_secrets_are_private_files(self) -> None:
        secrets = self.secrets()
        self.assertEqual(sorted(secrets), ["bootstrap_token", "jwt", "owner_password", "secret_box"])
        self.assertGreaterEqual(len(secrets["jwt"]), 32)
        self.assertRegex(secrets["secret_box"].decode(), r"^k1:[A-Za-z0-9+/]{43}=$")
        self.assertGreaterEqual(len(secrets["owner_password"]), 12)
        for name in secrets:
            mode = stat.S_IMODE((self.platform.home / "secrets" / name).stat().st_mode)
            self.assertEqual(mode, 0o600, name)

    def test_up_again_reuses_the_running_services_and_the_secrets(self) -> None:
        pids, secrets = self.pids(), self.secrets()
        env_text = (self.platform.home / "platform.env").read_text()
        self.assertNotIn(None, pids.values())

        output = self.platform.run_script("up").stdout

        for service in SERVICES:
            self.assertIn(f"{service} already running (pid {pids[service]})", output)
        self.assertEqual(self.pids(), pids)
        self.assertEqual(self.secrets(), secrets)
        self.assertEqual((self.platform.home / "platform.env").read_text(), env_text)

    def test_seed_again_changes_nothing(self) -> None:
        before = self.inventory()
        kb_files = sorted(p.name for p in (REPO / "examples" / "kb").glob("*.md"))
        self.assertEqual(before["tools"], [("kb_search", True), ("notification", True), ("ticketing", True)])
        self.assertEqual([name for name, _ in before["agents"]], ["support-agent"])
        self.assertEqual(before["documents"], [(name, "DOCUMENT_STATUS_READY") for name in kb_files])

        output = self.platform.run_script("seed").stdout

        self.assertNotIn("created", output)
        self.assertNotIn("uploaded", output)
        self.assertNotIn("updated", output)
        self.assertEqual(self.inventory(), before)

    def test_status_shows_every_service_serving(self) -> None:
        output = self.platform.run_script("status").stdout
        for index, service in enumerate(SERVICES, start=1):
            port = self.platform.base_port + index
            self.assertRegex(
                output, rf"(?m)^{re.escape(service)}\s+127\.0\.0\.1:{port}\s.*SERVING pid \d+"
            )
        # The edge takes the base port itself.
        self.assertRegex(output, rf"(?m)^edge\s+127\.0\.0\.1:{self.platform.base_port}\s.*SERVING pid \d+")

    def test_down_then_up_keeps_the_tenant_login_and_seed(self) -> None:
        password = self.platform.password
        before = self.inventory()

        self.platform.run_script("down")
        status = subprocess.run(
            [str(platform_fixture.PLATFORM_SCRIPT), "status"],
            cwd=REPO,
            env=self.platform.script_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertNotEqual(status.returncode, 0)
        # The six services and the edge.
        self.assertEqual(status.stdout.count("stopped"), len(SERVICES) + 1)
        self.assertEqual(self.pids(), {service: None for service in SERVICES})

        self.platform.run_script("up")
        self.platform.reload_env()
        self.assertEqual(self.platform.password, password)
        self.assertEqual(self.inventory(), before)  # login works with the same password
        self.assertNotIn("created", self.platform.run_script("seed").stdout)

    def test_kill_and_start_one_service(self) -> None:
        old = self.platform.pid("ticketing")
        self.platform.kill("ticketing")
        self.assertIsNone(self.platform.pid("ticketing"))
        self.platform.start("ticketing")
        new = self.platform.pid("ticketing")
        self.assertIsNotNone(new)
        self.assertNotEqual(new, old)
        self.assertIn("starting ticketing", self.platform.log("ticketing"))

    def test_run_plays_the_scenario_through_agentctl(self) -> None:
        result = subprocess.run(
            [str(REPO / "scripts" / "run"), "--no-serve"],
            cwd=REPO,
            env=self.platform.script_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = result.stdout
        self.assertEqual(result.returncode, 0, f"stdout:\n{output}\nstderr:\n{result.stderr}")
        kb_part, _, rest = output.partition("== 2.")
        self.assertIn(KB_QUESTION, kb_part)
        self.assertIn(KB_SENTENCE, kb_part)
        self.assertNotIn("I created ticket", kb_part)
        ticket = re.search(r"I created ticket #(\d+) for you", rest)
        self.assertIsNotNone(ticket, rest)
        self.assertNotIn(KB_SENTENCE, rest.partition("== Tickets")[0])
        tickets_part, _, deliveries_part = rest.partition("== Tickets")[2].partition("== Deliveries")
        self.assertRegex(
            tickets_part, rf"(?m)^#{ticket.group(1)}\s+open\s.*Customer question: The mobile app"
        )
        self.assertRegex(deliveries_part, r"(?m)^[0-9a-f-]{36}\s+log\s+delivered\s")
        self.assertIn("The platform keeps running", output)

    def test_the_scenario_through_the_edge_in_json_and_sse(self) -> None:
        """make run's two questions through the edge: JSON to sign in and set up, each answer
        streamed as Server-Sent Events; the ticket and the delivery read back in JSON."""
        edge = self.platform.env["AGENTPLANE_EDGE_URL"]
        login = requests.post(
            edge + "/v1/auth/login",
            json={"tenantSlug": "demo", "email": self.platform.env["AGENTPLANE_EMAIL"],
                  "password": self.platform.env["AGENTPLANE_PASSWORD"]},
            timeout=30,
        )
        self.assertEqual(login.status_code, 200, login.text)
        auth = {"Authorization": "Bearer " + login.json()["tokens"]["accessToken"]}
        agents = requests.get(edge + "/v1/agents", headers=auth, timeout=30).json()["agents"]
        agent = next(a for a in agents if a["name"] == "support-agent")

        def ask(question: str) -> str:
            conversation = requests.post(
                edge + "/v1/conversations", headers=auth, json={"agentId": agent["id"]}, timeout=30
            ).json()["conversation"]["id"]
            answer, kinds = None, []
            with requests.post(
                edge + f"/v1/conversations/{conversation}/messages", headers=auth,
                json={"content": question}, stream=True, timeout=120,
            ) as response:
                self.assertEqual(response.status_code, 200)
                event = None
                for line in response.iter_lines(decode_unicode=True):
                    if line.startswith("event: "):
                        event = line[len("event: "):]
                        kinds.append(event)
                    elif line.startswith("data: ") and event == "assistantMessage":
                        answer = json.loads(line[len("data: "):])["assistantMessage"]["content"]
            self.assertEqual(kinds[0], "userMessage")
            self.assertEqual(kinds[-1], "assistantMessage")
            self.assertIsNotNone(answer)
            return answer

        self.assertIn(KB_SENTENCE, ask(KB_QUESTION))
        ticket_answer = ask(TICKET_QUESTION)
        number = re.search(r"I created ticket #(\d+) for you", ticket_answer)
        self.assertIsNotNone(number, ticket_answer)
        ticket = requests.get(edge + f"/v1/tickets/{number.group(1)}", headers=auth, timeout=30)
        self.assertEqual(ticket.status_code, 200, ticket.text)
        self.assertIn("The mobile app", ticket.json()["ticket"]["body"] + ticket.json()["ticket"]["title"])
        deliveries = requests.get(edge + "/v1/deliveries", headers=auth, timeout=30)
        self.assertEqual(deliveries.status_code, 200, deliveries.text)
        self.assertTrue(any(d["status"].endswith("DELIVERED") for d in deliveries.json()["deliveries"]))

    def test_run_serves_until_interrupted_then_stops_the_platform(self) -> None:
        self.addCleanup(self.platform.run_script, "up")  # the other tests need it running
        process = subprocess.Popen(
            [str(REPO / "scripts" / "run")],
            cwd=REPO,
            env=self.platform.script_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # A terminal delivers Ctrl-C to a shell whose SIGINT is at its default; under CI the
            # test may inherit SIGINT ignored (a background job), and bash cannot trap a signal
            # that was ignored when it started.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        lines = []
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("serving; Ctrl-C to stop"):
                    break
            self.assertTrue(lines and lines[-1].startswith("serving"), "".join(lines))
            self.assertNotIn(None, self.pids().values())

            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.assertEqual(process.returncode, 0, "".join(lines) + rest)
        self.assertIn("platform: down", rest)
        self.assertEqual(self.pids(), {service: None for service in SERVICES})


if __name__ == "__main__":
    unittest.main()
