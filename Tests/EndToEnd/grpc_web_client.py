"""Run by test_grpc_web.py with the Python of a virtualenv of its own (sonora pins urllib3<2):
calls the edge through sonora's gRPC-Web client (application/grpc-web+proto) with the stubs
grpc_tools generated from proto/, and prints what it saw as one JSON object.

argv: edge URL, stubs folder, tenant slug, email, password.
"""

import json
import sys

import grpc
import sonora.client

url, stubs, tenant, email, password = sys.argv[1:6]
sys.path.insert(0, stubs)
from agentplane.v1 import control_pb2, control_pb2_grpc  # noqa: E402



class StubChannel:
    """sonora's channel as grpcio's generated stubs call it: they pass `_registered_method`,
    which sonora's methods do not take."""

    def __init__(self, inner):
        self.inner = inner

    def unary_unary(self, path, request_serializer=None, response_deserializer=None, **_):
        return self.inner.unary_unary(path, request_serializer, response_deserializer)

    def unary_stream(self, path, request_serializer=None, response_deserializer=None, **_):
        return self.inner.unary_stream(path, request_serializer, response_deserializer)


report = {}
with sonora.client.insecure_web_channel(url) as web:
    channel = StubChannel(web)
    auth = control_pb2_grpc.AuthServiceStub(channel)
    login = auth.Login(control_pb2.LoginRequest(tenant_slug=tenant, email=email, password=password), timeout=30)
    token = login.tokens.access_token
    report["login_user"] = login.user.email
    metadata = [("authorization", f"Bearer {token}")]
    agents = control_pb2_grpc.AgentServiceStub(channel)
    listed = agents.ListAgents(control_pb2.ListAgentsRequest(), metadata=metadata, timeout=30)
    report["agents"] = [a.name for a in listed.agents]
    agent = next(a for a in listed.agents if a.name == "support-agent")
    try:
        agents.GetAgent(control_pb2.GetAgentRequest(agent_id="00000000-0000-0000-0000-000000000000"), metadata=metadata, timeout=30)
        report["missing"] = "OK"
    except grpc.RpcError as error:
        report["missing"] = error.code().name
    try:
        agents.ListAgents(control_pb2.ListAgentsRequest(), timeout=30)
        report["anonymous"] = "OK"
    except grpc.RpcError as error:
        report["anonymous"] = error.code().name
    conversations = control_pb2_grpc.ConversationServiceStub(channel)
    conversation = conversations.CreateConversation(
        control_pb2.CreateConversationRequest(agent_id=agent.id), metadata=metadata, timeout=30
    ).conversation
    items = []
    for item in conversations.SendMessage(
        control_pb2.SendMessageRequest(conversation_id=conversation.id, content="How do I reset my password?"),
        metadata=metadata,
        timeout=60,
    ):
        kind = item.WhichOneof("item")
        items.append([kind, item.event.sequence if kind == "event" else 0])
        if kind == "assistant_message":
            report["answer"] = item.assistant_message.content
    report["items"] = items
print(json.dumps(report))
