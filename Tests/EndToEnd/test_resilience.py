"""Resilience: a service killed (SIGKILL) in the middle of the scenario.

(a) execution dies while a SendMessage is streaming: the run sits in a slow http tool (a local
    server that holds the request until the test lets it go), so the kill lands mid-run for sure.
    The caller gets UNAVAILABLE (or a completed stream) within the call's deadline; the
    conversation is not left RUNNING; after execution is restarted a new message is accepted;
    and every assistant message is a whole answer.
(b) every kb-search replica dies: the kb_lookup node retries, then the run fails with a clear
    error naming UNAVAILABLE; the conversation is IDLE again; with kb-search restarted the same
    question is answered from the knowledge base again.

Whatever a test kills is started again in a finally block, so later tests find a whole platform.
"""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import grpc

import test_scenario
from test_scenario import KB_QUESTION, RESET_ARTICLE, Api, events, started_nodes, terminal, unique

platform_fixture = test_scenario.platform_fixture

# Ports of the slow HTTP endpoint: inside this suite's range, the first free one is used.
SLOW_PORTS = range(7690, 7700)
STREAM_DEADLINE = 60
RECOVERY_LIMIT = 120


class SlowEndpoint:
    """A local HTTP endpoint whose answers wait until `release()` (at most `hold_limit` seconds)."""

    def __init__(self, hold_limit=90):
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.requests = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            """Records each POST, then holds it until the endpoint is released."""

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                endpoint.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                endpoint.arrived.set()
                endpoint.released.wait(hold_limit)
                body = json.dumps({"slow": "done"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the caller gave up (its process was killed); nothing to answer

            def log_message(self, *args):
                pass

        for port in SLOW_PORTS:
            try:
                self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"no free port in {SLOW_PORTS}")
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def release(self):
        """Lets every held request, and every later one, be answered."""
        self.released.set()

    def close(self):
        """Answers what is held and stops the server."""
        self.release()
        self.server.shutdown()
        self.server.server_close()


class StreamReader:
    """Reads a server stream on a thread of its own, so the test can act while it is open."""

    def __init__(self, call):
        self.call = call
        self.items = []
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for item in self.call:
                self.items.append(item)
        except grpc.RpcError as error:
            self.error = error

    def join(self, limit):
        """Waits up to `limit` seconds for the stream to end; True when it did."""
        self.thread.join(limit)
        return not self.thread.is_alive()


class ResilienceTest(unittest.TestCase):
    """Killing execution or kb-search mid-scenario leaves consistent conversations."""

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.api = Api(cls.platform)
        cls.pb = cls.api.pb
        cls.api.ensure_demo_tools()
        document = cls.api.upload_document(f"{unique('e2e-resilience')}-reset.md", RESET_ARTICLE)
        indexed = cls.api.wait_until_indexed(document.id)
        if indexed.status != cls.pb.control_pb2.DOCUMENT_STATUS_READY:
            raise AssertionError(f"the reset article was not indexed: {indexed}")
        cls.support_agent = cls.api.create_agent(unique("e2e-resilience-support"),
                                                 test_scenario.FLOW_PATH.read_text())

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def restart(self, service, replicas):
        """Starts the given replicas of a service again and waits until they serve."""
        for replica in replicas:
            self.platform.start(service, replica)

    def wait_for_run_end(self, run_id):
        """The run once it is over (succeeded, failed or cancelled), asked of ExecutionService."""
        ex = self.pb.execution_pb2
        over = (ex.RUN_STATUS_SUCCEEDED, ex.RUN_STATUS_FAILED, ex.RUN_STATUS_CANCELLED)
        deadline = time.monotonic() + RECOVERY_LIMIT
        while True:
            try:
                run = self.api.call("ExecutionService", "GetRun", ex.GetRunRequest(run_id=run_id),
                                    module="execution", service="execution").run
                if run.status in over:
                    return run
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
            self.assertLess(time.monotonic(), deadline, f"run {run_id} did not end after the restart")
            time.sleep(0.5)

    def slow_agent(self):
        """An agent whose one tool call waits at a local endpoint until the test releases it,
        so a kill lands mid-run for sure; returns (endpoint, agent)."""
        common = self.pb.common_pb2
        endpoint = SlowEndpoint()
        self.addCleanup(endpoint.close)
        tool = self.api.create_tool(unique("e2e-slow"), common.TOOL_KIND_HTTP,
                                    {"url": f"http://127.0.0.1:{endpoint.port}/slow", "method": "POST"},
                                    timeout_seconds=120)
        flow = {
            "entry": "slow",
            "state": {"slow": {"type": "object"}},
            "nodes": [
                {"id": "slow", "kind": "tool", "tool": tool.name, "arguments": {"question": "{{input}}"},
                 "output": "slow", "next": "reply"},
                {"id": "reply", "kind": "set", "values": {"answer": "Slow step done for: {{input}}"},
                 "next": "done"},
                {"id": "done", "kind": "end"},
            ],
        }
        return endpoint, self.api.create_agent(unique("e2e-slow-agent"), json.dumps(flow))

    def test_execution_killed_while_a_message_streams(self):
        c = self.pb.control_pb2
        common = self.pb.common_pb2
        endpoint, agent = self.slow_agent()
        conversation = self.api.create_conversation(agent.id)
        first, second = "first question before the crash", "second question after the restart"

        stub = self.api.stub("control", "control", "ConversationService")
        call = stub.SendMessage(c.SendMessageRequest(conversation_id=conversation.id, content=first),
                                metadata=self.api.metadata, timeout=STREAM_DEADLINE)
        reader = StreamReader(call)
        try:
            self.assertTrue(endpoint.arrived.wait(STREAM_DEADLINE), "the run never reached the slow tool")
            self.platform.kill("execution")
            self.assertTrue(reader.join(STREAM_DEADLINE + 5), "the stream did not end after the kill")
        finally:
            endpoint.release()
            self.restart("execution", [0])

        # The caller learns of the crash within the deadline: UNAVAILABLE, or a stream that
        # completed because the run was finished elsewhere. A hang would be DEADLINE_EXCEEDED.
        if reader.error is not None:
            self.assertEqual(reader.error.code(), grpc.StatusCode.UNAVAILABLE, reader.error)
        else:
            self.assertIsNotNone(terminal(reader.items), reader.items)
        self.assertEqual(reader.items[0].user_message.content, first)

        # The run itself survives: the restarted execution takes it over once its lease expires
        # and finishes it (the slow tool is asked again under the same idempotency key).
        # (Asked of ExecutionService: the kill may have come before run_started was relayed.)
        runs = self.api.call("ExecutionService", "ListRuns",
                             self.pb.execution_pb2.ListRunsRequest(conversation_id=conversation.id),
                             module="execution", service="execution").runs
        self.assertEqual(len(runs), 1, runs)
        run = self.wait_for_run_end(runs[0].id)
        self.assertEqual(self.pb.execution_pb2.RunStatus.Name(run.status), "RUN_STATUS_SUCCEEDED", run)
        self.assertEqual(run.answer, f"Slow step done for: {first}")

        # Not stuck: the conversation is IDLE and a new message is accepted.
        self.assertEqual(self.api.get_conversation(conversation.id).status, c.CONVERSATION_STATUS_IDLE)
        items = self.api.send_message(conversation.id, second, timeout=STREAM_DEADLINE)
        end = terminal(items)
        self.assertEqual(end.WhichOneof("payload"), "run_finished", end)
        self.assertEqual(items[-1].assistant_message.content, f"Slow step done for: {second}")
        self.assertEqual(self.api.get_conversation(conversation.id).status, c.CONVERSATION_STATUS_IDLE)

        # Messages are whole: each user message once, each assistant message a complete answer
        # to one of them, at most one per run.
        stored = self.api.messages(conversation.id)
        users = [m.content for m in stored if m.role == common.MESSAGE_ROLE_USER]
        assistants = [m for m in stored if m.role == common.MESSAGE_ROLE_ASSISTANT]
        self.assertEqual(users, [first, second])
        self.assertEqual([(m.run_id, m.content) for m in assistants],
                         [(run.id, f"Slow step done for: {first}"), (end.run_id, f"Slow step done for: {second}")])

    def test_agentctl_chat_waits_for_a_run_that_continues_after_execution_died(self):
        endpoint, agent = self.slow_agent()
        home = tempfile.mkdtemp(prefix="agentctl-resilience-")
        self.addCleanup(shutil.rmtree, home, True)
        env = dict(os.environ, AGENTPLANE_SERVER=self.platform.addr("control"), AGENTPLANE_CONFIG_DIR=home)
        env.pop("AGENTPLANE_PASSWORD", None)
        login = subprocess.run(
            [self.platform.agentctl, "login", "--tenant", self.platform.tenant, "--email", self.platform.email,
             "--password-stdin"], input=self.platform.password + "\n", env=env, capture_output=True, text=True,
            timeout=60)
        self.assertEqual(login.returncode, 0, login.stderr)
        chat = subprocess.Popen([self.platform.agentctl, "chat", agent.name, "--message", "question before the crash"],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            self.assertTrue(endpoint.arrived.wait(STREAM_DEADLINE), "the run never reached the slow tool")
            self.platform.kill("execution")
            # agentctl sees the stream break while the run is still held at the endpoint.
            time.sleep(1)
        finally:
            endpoint.release()
            self.restart("execution", [0])
        try:
            out, err = chat.communicate(timeout=RECOVERY_LIMIT + 60)
        except subprocess.TimeoutExpired:
            chat.kill()
            out, err = chat.communicate()
            self.fail(f"agentctl chat did not end:\n{out}\n{err}")
        # It said what happened, waited for the run taken over elsewhere and printed its answer.
        self.assertEqual(chat.returncode, 0, f"stdout:\n{out}\nstderr:\n{err}")
        self.assertIn("continues elsewhere", out)
        self.assertEqual(out.strip().splitlines()[-1], "Slow step done for: question before the crash", out)

    def test_kb_search_down_fails_the_run_clearly_and_recovers(self):
        c = self.pb.control_pb2
        replicas = list(range(len(self.platform.addrs("kb-search"))))
        conversation = self.api.create_conversation(self.support_agent.id)
        try:
            for replica in replicas:
                self.platform.kill("kb-search", replica)
            items = self.api.send_message(conversation.id, KB_QUESTION, timeout=STREAM_DEADLINE)
        finally:
            self.restart("kb-search", replicas)

        end = terminal(items)
        self.assertIsNotNone(end, items)
        self.assertEqual(end.WhichOneof("payload"), "run_failed", end)
        error = end.run_failed.error
        self.assertEqual(error.node_id, "kb_lookup")
        self.assertIn("UNAVAILABLE", f"{error.code} {error.message}".upper(), error)
        self.assertTrue(error.retryable, error)
        self.assertEqual(started_nodes(items), ["kb_lookup"])
        failed_results = [e.tool_result for e in events(items) if e.WhichOneof("payload") == "tool_result"]
        self.assertTrue(all(r.is_error for r in failed_results), failed_results)
        self.assertEqual(self.api.get_conversation(conversation.id).status, c.CONVERSATION_STATUS_IDLE)

        # kb-search is back: the same conversation answers the question from the KB.
        items = self.api.send_message(conversation.id, KB_QUESTION, timeout=STREAM_DEADLINE)
        end = terminal(items)
        self.assertEqual(end.WhichOneof("payload"), "run_finished", end)
        self.assertIn("answer_from_kb", started_nodes(items))
        self.assertEqual(self.api.get_conversation(conversation.id).status, c.CONVERSATION_STATUS_IDLE)
        stored = self.api.messages(conversation.id)
        roles = [self.pb.common_pb2.MessageRole.Name(m.role) for m in stored]
        # The failed run saved no assistant message; the second one did.
        self.assertEqual(roles, ["MESSAGE_ROLE_USER", "MESSAGE_ROLE_USER", "MESSAGE_ROLE_ASSISTANT"])


if __name__ == "__main__":
    unittest.main()
