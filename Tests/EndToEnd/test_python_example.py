"""examples/python/quickstart.py, run as a newcomer would, against the shared platform.

Generates the stubs with the one-liner docs/CLIENTS.md gives (into a temporary folder), runs the
quickstart as a subprocess with the platform's address and credentials in the environment, and
checks what it prints: the login, the agent list, the run's steps as they happen and the answer.
"""

import os
import subprocess
import sys
import tempfile
import unittest

import test_scenario
from test_scenario import REPO, RESET_ARTICLE, Api, unique

platform_fixture = test_scenario.platform_fixture

QUICKSTART = REPO / "examples" / "python" / "quickstart.py"


class PythonQuickstartTest(unittest.TestCase):
    """The quickstart logs in, lists agents and chats with support-agent, printing the stream."""

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.api = Api(cls.platform)
        cls.api.ensure_demo_tools()
        # The seed creates support-agent; create it when this platform was not seeded.
        c = cls.api.pb.control_pb2
        listed = cls.api.call("AgentService", "ListAgents", c.ListAgentsRequest(name_contains="support-agent"))
        if not any(agent.name == "support-agent" for agent in listed.agents):
            cls.api.create_agent("support-agent", test_scenario.FLOW_PATH.read_text())
        # A focused article, so the KB path is the one taken whatever else the KB holds.
        document = cls.api.upload_document(f"{unique('e2e-quickstart')}-reset.md", RESET_ARTICLE)
        cls.api.wait_until_indexed(document.id)
        cls.stubs = tempfile.TemporaryDirectory(prefix="quickstart-stubs-")
        # The one-liner of docs/CLIENTS.md, with the output folder swapped for a temporary one.
        protos = sorted(str(p.relative_to(REPO)) for p in (REPO / "proto/agentplane/v1").glob("*.proto"))
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", "proto", f"--python_out={cls.stubs.name}",
                        f"--grpc_python_out={cls.stubs.name}", *protos], cwd=REPO, check=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.api.close()
        cls.stubs.cleanup()

    def run_quickstart(self, *args, password=None):
        """Runs the quickstart with the platform's address and login (or another password)."""
        env = dict(os.environ)
        env.update(AGENTPLANE_SERVER=self.platform.addr("control"), AGENTPLANE_TENANT=self.platform.tenant,
                   AGENTPLANE_EMAIL=self.platform.email,
                   AGENTPLANE_PASSWORD=self.platform.password if password is None else password,
                   AGENTPLANE_STUBS=self.stubs.name)
        return subprocess.run([sys.executable, str(QUICKSTART), *args], env=env, capture_output=True, text=True,
                              timeout=180, cwd=tempfile.gettempdir())

    def test_chats_with_the_support_agent(self):
        result = self.run_quickstart()
        self.assertEqual(result.returncode, 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        lines = result.stdout.splitlines()
        self.assertIn(f"logged in as {self.platform.email} in tenant {self.platform.tenant}", lines)
        agents_line = next(line for line in lines if line.startswith("agents: "))
        self.assertIn("support-agent (v", agents_line)
        self.assertIn("you: How do I reset my password?", lines)
        # The steps in the order they ran, each announced and then finished.
        self.assertIn("→ kb_lookup (tool)", lines)
        self.assertLess(lines.index("→ kb_lookup (tool)"), lines.index("→ kb_helpful (router)"))
        self.assertTrue(any(line.startswith("✓ kb_lookup ") and line.endswith(" ms") for line in lines), lines)
        self.assertIn("→ answer_from_kb (llm)", lines)
        answers = [line for line in lines if line.startswith("answer: ")]
        self.assertEqual(len(answers), 1, lines)
        self.assertIn("reset", answers[0].lower())
        # The streamed deltas were printed before the saved answer, and say the same.
        self.assertIn(answers[0][len("answer: "):], result.stdout.split("answer: ")[0])

    def test_wrong_password_prints_the_status(self):
        result = self.run_quickstart(password="not-the-password-" + unique("x"))
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("error: UNAUTHENTICATED:", result.stderr)

    def test_unknown_agent_is_reported(self):
        result = self.run_quickstart("--agent", unique("no-such-agent"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no agent named", result.stderr)


if __name__ == "__main__":
    unittest.main()
