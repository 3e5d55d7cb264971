"""The support scenario end to end, through the public gRPC API from a Python grpcio client.

Logs in, creates the support agent from examples/support-agent.flow.json under a unique name,
uploads knowledge-base articles, then plays both paths of the flow through
ConversationService.SendMessage: a question the KB answers, and one it cannot (ticket +
notification), checking what the ticketing and notification services recorded and the
conversation's messages. The small `Api` client below is shared with the other end-to-end tests.
"""

import json
import pathlib
import re
import time
import unittest
import uuid

import grpc
from google.protobuf import struct_pb2

import platform_fixture

REPO = pathlib.Path(__file__).resolve().parents[2]
FLOW_PATH = REPO / "examples" / "support-agent.flow.json"

# A deadline on every call, so a hung service fails one test instead of hanging the suite.
RPC_TIMEOUT = 30
RUN_TIMEOUT = 90

# A short, focused article: the flow's router compares the lookup's top score with a threshold,
# which a focused article passes (the seed's kb_search tool searches in lexical mode).
RESET_ARTICLE = """# How do I reset my password?

To reset your password, click "Forgot password" on the sign-in page and follow the reset link we email you.
"""

BILLING_ARTICLE = """# Invoices and billing

Invoices are issued on the first day of every month and sent to the billing contact.
You can download past invoices as PDF from Settings, Billing, Invoice history.
To change the card we charge, open Settings, Billing, Payment method.
"""

KB_QUESTION = "How do I reset my password?"
OFF_TOPIC_QUESTION = "Can you repair the hydraulic brakes of my forklift?"


def unique(prefix):
    """A name no other test run uses, so tests never collide on the shared platform."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def struct(values):
    """A google.protobuf.Struct holding a JSON object."""
    result = struct_pb2.Struct()
    result.update(values)
    return result


class Api:
    """A logged-in client of the platform's public gRPC API (one channel per service)."""

    def __init__(self, platform, tenant=None, email=None, password=None):
        """Logs in as the demo owner, or as the given user of another tenant."""
        self.platform = platform
        self.pb = platform_fixture.stubs()
        self.channels = {}
        login = self.stub("control", "control", "AuthService").Login(
            self.pb.control_pb2.LoginRequest(
                tenant_slug=tenant or platform.tenant, email=email or platform.email,
                password=password or platform.password),
            timeout=RPC_TIMEOUT)
        self.token = login.tokens.access_token
        self.tenant_id = login.tenant.id
        self.metadata = [("authorization", f"Bearer {self.token}")]

    def channel(self, service, address=None):
        """A channel to the service's first replica (or to the given address)."""
        address = address or self.platform.addr(service)
        if address not in self.channels:
            self.channels[address] = grpc.insecure_channel(address)
        return self.channels[address]

    def stub(self, service, module, name, address=None):
        """A stub of `name` from `<module>_pb2_grpc`, on the given service's channel."""
        grpc_module = getattr(self.pb, f"{module}_pb2_grpc")
        return getattr(grpc_module, f"{name}Stub")(self.channel(service, address))

    def close(self):
        """Closes every channel this client opened."""
        for channel in self.channels.values():
            channel.close()
        self.channels = {}

    # Control plane.

    def call(self, service_name, method, request, module="control", service="control", timeout=RPC_TIMEOUT):
        """One unary call with the token and a deadline."""
        stub = self.stub(service, module, service_name)
        return getattr(stub, method)(request, metadata=self.metadata, timeout=timeout)

    def ensure_demo_tools(self):
        """The seed's tools by name; creates any that is missing (same kinds as the seed)."""
        c = self.pb.control_pb2
        common = self.pb.common_pb2
        tools = {t.name: t for t in self.call("ToolService", "ListTools", c.ListToolsRequest(page_size=200)).tools}
        wanted = {
            "kb_search": (common.TOOL_KIND_KB_SEARCH, {"mode": "lexical", "top_k": 3}),
            "ticketing": (common.TOOL_KIND_TICKETING, {"backend": "builtin"}),
            "notification": (common.TOOL_KIND_NOTIFICATION, {"channel": "log"}),
        }
        for name, (kind, config) in wanted.items():
            if name not in tools:
                tools[name] = self.call("ToolService", "CreateTool", c.CreateToolRequest(
                    name=name, kind=kind, config=struct(config), enabled=True)).tool
        return tools

    def create_agent(self, name, flow_json, description=""):
        """AgentService.CreateAgent; returns the agent at version 1."""
        request = self.pb.control_pb2.CreateAgentRequest(name=name, description=description, flow_json=flow_json)
        return self.call("AgentService", "CreateAgent", request).agent

    def create_tool(self, name, kind, config, timeout_seconds=None):
        """ToolService.CreateTool of an enabled tool; returns it."""
        request = self.pb.control_pb2.CreateToolRequest(name=name, kind=kind, config=struct(config), enabled=True)
        if timeout_seconds is not None:
            request.timeout.seconds = timeout_seconds
        return self.call("ToolService", "CreateTool", request).tool

    def upload_document(self, name, text, tags=()):
        """Uploads through the client stream: metadata first, then the content in small chunks."""
        c = self.pb.control_pb2
        data = text.encode()

        def parts():
            yield c.UploadDocumentRequest(metadata=c.UploadDocumentMetadata(
                name=name, content_type="text/markdown", tags=list(tags)))
            for start in range(0, len(data), 64):
                yield c.UploadDocumentRequest(chunk=data[start:start + 64])

        stub = self.stub("control", "control", "DocumentService")
        return stub.UploadDocument(parts(), metadata=self.metadata, timeout=RPC_TIMEOUT).document

    def wait_until_indexed(self, document_id, limit_seconds=120):
        """Polls GetDocument until the document leaves PROCESSING; returns it."""
        c = self.pb.control_pb2
        deadline = time.monotonic() + limit_seconds
        while True:
            request = c.GetDocumentRequest(document_id=document_id)
            document = self.call("DocumentService", "GetDocument", request).document
            if document.status != c.DOCUMENT_STATUS_PROCESSING or time.monotonic() > deadline:
                return document
            time.sleep(0.2)

    def create_conversation(self, agent_id):
        """ConversationService.CreateConversation with the agent's latest version."""
        request = self.pb.control_pb2.CreateConversationRequest(agent_id=agent_id)
        return self.call("ConversationService", "CreateConversation", request).conversation

    def get_conversation(self, conversation_id):
        """ConversationService.GetConversation."""
        request = self.pb.control_pb2.GetConversationRequest(conversation_id=conversation_id)
        return self.call("ConversationService", "GetConversation", request).conversation

    def send_message(self, conversation_id, content, timeout=RUN_TIMEOUT):
        """The whole SendMessage stream as a list of SendMessageResponse items."""
        stub = self.stub("control", "control", "ConversationService")
        request = self.pb.control_pb2.SendMessageRequest(conversation_id=conversation_id, content=content)
        return list(stub.SendMessage(request, metadata=self.metadata, timeout=timeout))

    def messages(self, conversation_id):
        """Every message of a conversation, oldest first (one page of up to 500)."""
        request = self.pb.control_pb2.ListMessagesRequest(conversation_id=conversation_id, page_size=500)
        return list(self.call("ConversationService", "ListMessages", request).messages)


def events(items):
    """The ExecutionEvents of a SendMessage stream, in order."""
    return [item.event for item in items if item.WhichOneof("item") == "event"]


def started_nodes(items):
    """The ids of the nodes the run started, in order."""
    return [e.node_started.node_id for e in events(items) if e.WhichOneof("payload") == "node_started"]


def terminal(items):
    """The run's terminal event (run_finished / run_failed / run_cancelled), or None."""
    for event in events(items):
        if event.WhichOneof("payload") in ("run_finished", "run_failed", "run_cancelled"):
            return event
    return None


def kb_sentences(text):
    """A KB text's sentences, split as the builtin model splits them (after . ! ? and at line ends)."""
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+|\n", text) if part.strip()]


class SupportScenarioTest(unittest.TestCase):
    """Both paths of the support agent, with what every service recorded along the way."""

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        cls.api = Api(cls.platform)
        cls.pb = cls.api.pb
        cls.tools = cls.api.ensure_demo_tools()
        flow = FLOW_PATH.read_text()
        cls.agent = cls.api.create_agent(unique("e2e-support"), flow, "support agent of the e2e scenario")
        tag = unique("e2e")
        cls.reset_doc = cls.api.upload_document(f"{tag}-password-reset.md", RESET_ARTICLE, tags=[tag])
        cls.billing_doc = cls.api.upload_document(f"{tag}-billing.md", BILLING_ARTICLE, tags=[tag])

    @classmethod
    def tearDownClass(cls):
        cls.api.close()

    def test_1_uploaded_documents_become_ready(self):
        c = self.pb.control_pb2
        for uploaded in (self.reset_doc, self.billing_doc):
            document = self.api.wait_until_indexed(uploaded.id)
            self.assertEqual(c.DocumentStatus.Name(document.status), "DOCUMENT_STATUS_READY",
                             document.status_message)
            self.assertGreater(document.chunk_count, 0)
            self.assertEqual(document.size_bytes, len((RESET_ARTICLE if uploaded is self.reset_doc
                                                       else BILLING_ARTICLE).encode()))

    def test_2_kb_question_is_answered_from_the_reset_article(self):
        for uploaded in (self.reset_doc, self.billing_doc):
            self.api.wait_until_indexed(uploaded.id)
        conversation = self.api.create_conversation(self.agent.id)
        items = self.api.send_message(conversation.id, KB_QUESTION)

        self.assertEqual(items[0].WhichOneof("item"), "user_message")
        self.assertEqual(items[0].user_message.content, KB_QUESTION)
        nodes = started_nodes(items)
        self.assertEqual(nodes[:2], ["kb_lookup", "kb_helpful"], nodes)
        self.assertIn("answer_from_kb", nodes)
        self.assertNotIn("create_ticket", nodes)
        end = terminal(items)
        self.assertIsNotNone(end)
        self.assertEqual(end.WhichOneof("payload"), "run_finished", end)
        deltas = "".join(e.answer_delta.text for e in events(items) if e.WhichOneof("payload") == "answer_delta")
        self.assertEqual(deltas, end.run_finished.answer)

        # The lookup found reset articles (ours, or the seed's examples/kb/password-reset.md), and
        # the answer quotes them.
        results = [e.tool_result for e in events(items) if e.WhichOneof("payload") == "tool_result"]
        self.assertTrue(results and not results[0].is_error, results)
        texts = [r["text"] for r in results[0].result["results"]]
        self.assertTrue(any("reset" in text.lower() for text in texts), texts)
        answer = items[-1].assistant_message.content
        self.assertEqual(items[-1].WhichOneof("item"), "assistant_message")
        self.assertEqual(answer, end.run_finished.answer)
        quoted = [s for text in texts for s in kb_sentences(text) if "reset" in s.lower() and s in answer]
        self.assertTrue(quoted, f"the answer quotes no reset sentence of the KB results: {answer!r} {texts!r}")

        stored = self.api.messages(conversation.id)
        roles = [self.pb.common_pb2.MessageRole.Name(m.role) for m in stored]
        self.assertEqual(roles, ["MESSAGE_ROLE_USER", "MESSAGE_ROLE_ASSISTANT"])
        self.assertEqual(stored[0].content, KB_QUESTION)
        self.assertEqual(stored[1].content, answer)
        self.assertEqual(stored[1].run_id, end.run_id)
        self.assertEqual(self.api.get_conversation(conversation.id).status,
                         self.pb.control_pb2.CONVERSATION_STATUS_IDLE)

    def test_3_off_topic_question_opens_a_ticket_and_notifies_support(self):
        for uploaded in (self.reset_doc, self.billing_doc):
            self.api.wait_until_indexed(uploaded.id)
        conversation = self.api.create_conversation(self.agent.id)
        items = self.api.send_message(conversation.id, OFF_TOPIC_QUESTION)

        nodes = started_nodes(items)
        self.assertEqual(nodes, ["kb_lookup", "kb_helpful", "create_ticket", "notify_support",
                                 "reply_with_ticket", "done"], nodes)
        end = terminal(items)
        self.assertEqual(end.WhichOneof("payload"), "run_finished", end)
        answer = items[-1].assistant_message.content

        ticket_results = [e.tool_result for e in events(items)
                          if e.WhichOneof("payload") == "tool_result" and e.tool_result.node_id == "create_ticket"]
        self.assertTrue(ticket_results and not ticket_results[0].is_error, ticket_results)
        number = int(ticket_results[0].result["ticket"]["number"])
        self.assertTrue(answer.startswith(f"I created ticket #{number} "), answer)

        # The ticketing service holds ticket N, titled with the question, linked to the run.
        tk = self.pb.ticketing_pb2
        tickets = self.api.call("TicketingService", "ListTickets",
                                tk.ListTicketsRequest(conversation_id=conversation.id),
                                module="ticketing", service="ticketing").tickets
        self.assertEqual([t.number for t in tickets], [number])
        self.assertIn(OFF_TOPIC_QUESTION, tickets[0].title)
        self.assertEqual(tickets[0].run_id, end.run_id)
        self.assertEqual(tk.TicketStatus.Name(tickets[0].status), "TICKET_STATUS_OPEN")

        # The notification outbox holds the run's delivery (log channel: delivered at once), and
        # the text it delivered names ticket N. Delivery carries no text, so read the log line.
        nt = self.pb.notification_pb2
        deliveries = self.api.call("NotificationService", "ListDeliveries",
                                   nt.ListDeliveriesRequest(run_id=end.run_id),
                                   module="notification", service="notification").deliveries
        self.assertEqual(len(deliveries), 1, deliveries)
        self.assertEqual(deliveries[0].conversation_id, conversation.id)
        notify = [e.tool_result for e in events(items)
                  if e.WhichOneof("payload") == "tool_result" and e.tool_result.node_id == "notify_support"]
        self.assertTrue(notify and not notify[0].is_error, notify)
        self.assertEqual(notify[0].result["delivery_id"], deliveries[0].id)
        delivered = self.wait_for_delivery(deliveries[0].id)
        self.assertEqual(nt.DeliveryStatus.Name(delivered.status), "DELIVERY_STATUS_DELIVERED", delivered)
        logged = [line for line in self.platform.log("notification").splitlines() if deliveries[0].id in line]
        texts = [json.loads(line).get("text", "") for line in logged if line.startswith("{")]
        self.assertTrue(any(f"ticket #{number}:" in text for text in texts), logged)

        stored = self.api.messages(conversation.id)
        self.assertEqual([(self.pb.common_pb2.MessageRole.Name(m.role), m.content) for m in stored],
                         [("MESSAGE_ROLE_USER", OFF_TOPIC_QUESTION), ("MESSAGE_ROLE_ASSISTANT", answer)])

    def wait_for_delivery(self, delivery_id, limit_seconds=30):
        """The delivery once it is no longer PENDING (a log delivery is attempted at once)."""
        nt = self.pb.notification_pb2
        deadline = time.monotonic() + limit_seconds
        while True:
            delivery = self.api.call("NotificationService", "GetDelivery",
                                     nt.GetDeliveryRequest(delivery_id=delivery_id),
                                     module="notification", service="notification").delivery
            if delivery.status != nt.DELIVERY_STATUS_PENDING or time.monotonic() > deadline:
                return delivery
            time.sleep(0.2)

    def test_4_empty_message_is_invalid_argument(self):
        conversation = self.api.create_conversation(self.agent.id)
        with self.assertRaises(grpc.RpcError) as raised:
            self.api.send_message(conversation.id, "")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("content", raised.exception.details().lower())
        self.assertEqual(self.api.messages(conversation.id), [])
        self.assertEqual(self.api.get_conversation(conversation.id).status,
                         self.pb.control_pb2.CONVERSATION_STATUS_IDLE)

    def test_6_invalid_flow_lists_every_violation_in_the_error_details_trailer(self):
        flow = {"entry": "missing", "nodes": [{"id": "a", "kind": "no-such-kind"}]}
        with self.assertRaises(grpc.RpcError) as raised:
            self.api.create_agent(unique("e2e-invalid"), json.dumps(flow))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        trailer = [value for key, value in raised.exception.trailing_metadata() or ()
                   if key == "agentplane-error-details-bin"]
        self.assertEqual(len(trailer), 1, raised.exception.trailing_metadata())
        details = self.pb.common_pb2.ErrorDetails.FromString(trailer[0])
        fields = {violation.field for violation in details.violations}
        self.assertIn("$.entry", fields)
        self.assertIn("$.nodes[0].kind", fields)
        self.assertTrue(all(violation.explanation for violation in details.violations), details)

    def test_5_unknown_conversation_is_not_found(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.api.send_message(str(uuid.uuid4()), KB_QUESTION)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
