"""Tenant isolation across the whole platform: a second tenant, created through the public API
with the operator's bootstrap token, never sees or changes the demo tenant's data — in the
control plane, the execution service, ticketing, notification and the knowledge base. Ids of the
other tenant answer NOT_FOUND (never PERMISSION_DENIED, which would confirm they exist), and its
lists and searches come back without the other tenant's rows.
"""

import unittest

import grpc

import test_scenario
from test_scenario import (FLOW_PATH, KB_QUESTION, OFF_TOPIC_QUESTION, RESET_ARTICLE, RPC_TIMEOUT, Api,
                           events, struct, terminal, unique)

platform_fixture = test_scenario.platform_fixture

# Valid in any tenant (the support flow's tools do not exist in tenant B, and a save validates the
# flow against the caller's own tools before it looks the agent up).
TOOL_FREE_FLOW = """{"name": "hello", "entry": "greet", "state": {"answer": {"type": "string"}},
 "nodes": [{"id": "greet", "kind": "set", "values": {"answer": "hello"}, "next": "done"},
           {"id": "done", "kind": "end"}]}"""


class TenantIsolationTest(unittest.TestCase):
    """Tenant B holds the owner role in its own tenant and calls with tenant A's ids."""

    @classmethod
    def setUpClass(cls):
        cls.platform = platform_fixture.shared()
        a = cls.a = Api(cls.platform)
        pb = cls.pb = a.pb
        c = pb.control_pb2
        cls.tools = a.ensure_demo_tools()
        cls.agent = a.create_agent(unique("iso-support"), FLOW_PATH.read_text())
        cls.document = a.wait_until_indexed(a.upload_document(f"{unique('iso')}-reset.md", RESET_ARTICLE).id)
        cls.conversation = a.create_conversation(cls.agent.id)
        a.send_message(cls.conversation.id, KB_QUESTION)
        items = a.send_message(cls.conversation.id, OFF_TOPIC_QUESTION)
        cls.run_id = terminal(items).run_id
        cls.ticket = [e.tool_result for e in events(items) if e.WhichOneof("payload") == "tool_result"
                      and e.tool_result.node_id == "create_ticket"][0].result["ticket"]
        cls.delivery_id = [e.tool_result for e in events(items) if e.WhichOneof("payload") == "tool_result"
                           and e.tool_result.node_id == "notify_support"][0].result["delivery_id"]
        cls.messages_before = len(a.messages(cls.conversation.id))

        # Tenant B, through TenantService.CreateTenant with the platform operator's token.
        with open(cls.platform.env["AGENTPLANE_BOOTSTRAP_TOKEN_FILE"], encoding="utf-8") as file:
            token = file.read().strip()
        slug, email, password = unique("tenant-b"), "owner@b.example", "b-password-" + unique("pw")
        a.stub("control", "control", "TenantService").CreateTenant(
            c.CreateTenantRequest(slug=slug, display_name="Tenant B", owner_email=email, owner_password=password),
            metadata=[("authorization", f"Bearer {token}")], timeout=RPC_TIMEOUT)
        cls.b = Api(cls.platform, tenant=slug, email=email, password=password)
        assert cls.b.tenant_id != a.tenant_id

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()

    def assertNotFound(self, call, what):
        with self.assertRaises(grpc.RpcError, msg=what) as caught:
            call()
        self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND,
                         f"{what}: {caught.exception.code()} {caught.exception.details()}")

    def test_control_plane_ids_of_another_tenant_are_not_found(self):
        c, b = self.pb.control_pb2, self.b
        calls = {
            "GetAgent": lambda: b.call("AgentService", "GetAgent", c.GetAgentRequest(agent_id=self.agent.id)),
            "UpdateAgent": lambda: b.call("AgentService", "UpdateAgent", c.UpdateAgentRequest(
                agent_id=self.agent.id, name=self.agent.name, flow_json=TOOL_FREE_FLOW, change_message="take over")),
            "DeleteAgent": lambda: b.call("AgentService", "DeleteAgent", c.DeleteAgentRequest(agent_id=self.agent.id)),
            "GetTool": lambda: b.call("ToolService", "GetTool", c.GetToolRequest(tool_id=self.tools["kb_search"].id)),
            "GetTool by name": lambda: b.call("ToolService", "GetTool", c.GetToolRequest(tool_id="kb_search")),
            "ExecuteTool": lambda: b.call("ToolService", "ExecuteTool", c.ExecuteToolRequest(
                tool_id=self.tools["kb_search"].id, arguments=struct({"query": "password"}))),
            "DeleteTool": lambda: b.call("ToolService", "DeleteTool", c.DeleteToolRequest(
                tool_id=self.tools["ticketing"].id)),
            "GetConversation": lambda: b.call("ConversationService", "GetConversation",
                                              c.GetConversationRequest(conversation_id=self.conversation.id)),
            "ListMessages": lambda: b.call("ConversationService", "ListMessages",
                                           c.ListMessagesRequest(conversation_id=self.conversation.id)),
            "SendMessage": lambda: b.send_message(self.conversation.id, "let me in"),
            "GetDocument": lambda: b.call("DocumentService", "GetDocument",
                                          c.GetDocumentRequest(document_id=self.document.id)),
            "DownloadDocument": lambda: list(b.stub("control", "control", "DocumentService").DownloadDocument(
                c.DownloadDocumentRequest(document_id=self.document.id), metadata=b.metadata, timeout=RPC_TIMEOUT)),
            "DeleteDocument": lambda: b.call("DocumentService", "DeleteDocument",
                                             c.DeleteDocumentRequest(document_id=self.document.id)),
        }
        for name, call in calls.items():
            with self.subTest(rpc=name):
                self.assertNotFound(call, name)

        # Nothing of A's changed, and B's own lists are empty.
        a = self.a
        self.assertEqual(a.call("AgentService", "GetAgent", c.GetAgentRequest(agent_id=self.agent.id)).agent.id,
                         self.agent.id)
        self.assertEqual(len(a.messages(self.conversation.id)), self.messages_before)
        self.assertEqual(a.call("DocumentService", "GetDocument", c.GetDocumentRequest(
            document_id=self.document.id)).document.status, c.DOCUMENT_STATUS_READY)
        self.assertTrue(a.call("ToolService", "GetTool", c.GetToolRequest(tool_id=self.tools["ticketing"].id)).tool.id)
        self.assertEqual(len(b.call("AgentService", "ListAgents", c.ListAgentsRequest()).agents), 0)
        self.assertEqual(len(b.call("ToolService", "ListTools", c.ListToolsRequest()).tools), 0)
        self.assertEqual(len(b.call("ConversationService", "ListConversations",
                                    c.ListConversationsRequest(all_users=True)).conversations), 0)
        self.assertEqual(len(b.call("DocumentService", "ListDocuments", c.ListDocumentsRequest()).documents), 0)

    def test_integration_services_keep_tenants_apart(self):
        b = self.b
        ex, tk, nt, kb = (self.pb.execution_pb2, self.pb.ticketing_pb2, self.pb.notification_pb2,
                          self.pb.kb_search_pb2)
        self.assertNotFound(lambda: b.call("ExecutionService", "GetRun", ex.GetRunRequest(run_id=self.run_id),
                                           module="execution", service="execution"), "GetRun")
        self.assertNotFound(lambda: b.call("TicketingService", "GetTicket", tk.GetTicketRequest(
            ticket_id=self.ticket["id"]), module="ticketing", service="ticketing"), "GetTicket")
        self.assertNotFound(lambda: b.call("NotificationService", "GetDelivery", nt.GetDeliveryRequest(
            delivery_id=self.delivery_id), module="notification", service="notification"), "GetDelivery")
        self.assertEqual(len(b.call("ExecutionService", "ListRuns", ex.ListRunsRequest(),
                                    module="execution", service="execution").runs), 0)
        self.assertEqual(len(b.call("TicketingService", "ListTickets", tk.ListTicketsRequest(),
                                    module="ticketing", service="ticketing").tickets), 0)
        self.assertEqual(len(b.call("NotificationService", "ListDeliveries", nt.ListDeliveriesRequest(),
                                    module="notification", service="notification").deliveries), 0)
        # Every kb-search replica: A's articles never answer B's search, while A finds them.
        for address in self.platform.addrs("kb-search"):
            stub = b.stub("kb-search", "kb_search", "KnowledgeBaseService", address=address)
            found = stub.Search(kb.SearchRequest(query="reset password", top_k=10), metadata=b.metadata,
                                timeout=RPC_TIMEOUT).results
            self.assertEqual(list(found), [], address)
            own = self.a.stub("kb-search", "kb_search", "KnowledgeBaseService", address=address).Search(
                kb.SearchRequest(query="reset password", top_k=10), metadata=self.a.metadata, timeout=RPC_TIMEOUT)
            self.assertTrue(own.results, f"{address}: tenant A's own search found nothing")
        # A's ticket is still A's.
        ticket = self.a.call("TicketingService", "GetTicket", tk.GetTicketRequest(ticket_id=self.ticket["id"]),
                             module="ticketing", service="ticketing").ticket
        self.assertEqual(ticket.number, int(self.ticket["number"]))


if __name__ == "__main__":
    unittest.main()
