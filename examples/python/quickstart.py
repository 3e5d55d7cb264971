"""Agentplane from Python: log in, list agents, chat with one and print the run as it streams.

    pip install grpcio grpcio-tools
    python3 -m grpc_tools.protoc -I proto --python_out=examples/python/gen \
        --grpc_python_out=examples/python/gen proto/agentplane/v1/*.proto
    python3 examples/python/quickstart.py --tenant acme --email owner@acme.test --password ...

Settings come from flags or the environment: AGENTPLANE_SERVER (control, default
127.0.0.1:7101), AGENTPLANE_TENANT, AGENTPLANE_EMAIL, AGENTPLANE_PASSWORD, AGENTPLANE_STUBS
(where the generated modules are, default examples/python/gen). See docs/CLIENTS.md.
"""

import argparse
import os
import sys
from pathlib import Path

import grpc

sys.path.insert(0, os.environ.get("AGENTPLANE_STUBS", str(Path(__file__).parent / "gen")))
from agentplane.v1 import common_pb2, control_pb2, control_pb2_grpc  # noqa: E402


def main():
    """Logs in, lists the agents, and chats once with the chosen agent."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=env("AGENTPLANE_SERVER", "127.0.0.1:7101"))
    parser.add_argument("--tenant", default=env("AGENTPLANE_TENANT"))
    parser.add_argument("--email", default=env("AGENTPLANE_EMAIL"))
    parser.add_argument("--password", default=env("AGENTPLANE_PASSWORD"))
    parser.add_argument("--agent", default="support-agent")
    parser.add_argument("--message", default="How do I reset my password?")
    args = parser.parse_args()

    channel = grpc.insecure_channel(args.server)
    login = control_pb2_grpc.AuthServiceStub(channel).Login(
        control_pb2.LoginRequest(tenant_slug=args.tenant, email=args.email, password=args.password), timeout=30)
    # Every other call carries the access token (valid 15 minutes; AuthService.Refresh renews it).
    auth = [("authorization", f"Bearer {login.tokens.access_token}")]
    print(f"logged in as {login.user.email} in tenant {login.tenant.slug}")

    agents = control_pb2_grpc.AgentServiceStub(channel).ListAgents(
        control_pb2.ListAgentsRequest(), metadata=auth, timeout=30).agents
    print("agents:", ", ".join(f"{a.name} (v{a.version})" for a in agents))
    agent = next((a for a in agents if a.name == args.agent), None)
    if agent is None:
        sys.exit(f"no agent named {args.agent!r}; create one first (e.g. scripts/platform seed)")

    conversations = control_pb2_grpc.ConversationServiceStub(channel)
    conversation = conversations.CreateConversation(
        control_pb2.CreateConversationRequest(agent_id=agent.id), metadata=auth, timeout=30).conversation
    request = control_pb2.SendMessageRequest(conversation_id=conversation.id, content=args.message)
    # A server stream: the saved user message, the run's events, then the saved answer.
    streaming = False  # True while answer deltas are being printed on one line
    for item in conversations.SendMessage(request, metadata=auth, timeout=120):
        kind = item.WhichOneof("item")
        event = item.event
        payload = event.WhichOneof("payload") if kind == "event" else None
        if streaming and payload != "answer_delta":
            print()
            streaming = False
        if kind == "user_message":
            print(f"you: {item.user_message.content}")
        elif kind == "assistant_message":
            print(f"answer: {item.assistant_message.content}")
        elif payload == "node_started":
            print(f"→ {event.node_started.node_id} ({event.node_started.node_kind})")
        elif payload == "node_finished":
            elapsed = event.node_finished.elapsed
            print(f"✓ {event.node_finished.node_id} {elapsed.seconds * 1000 + elapsed.nanos // 1_000_000} ms")
        elif payload == "answer_delta":
            print(event.answer_delta.text, end="", flush=True)
            streaming = True
        elif payload == "run_failed":
            print(f"run failed: {event.run_failed.error.code}: {event.run_failed.error.message}")


def describe(error):
    """A failed call: its status, message and the structured details the server attached."""
    print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
    for key, value in error.trailing_metadata() or ():
        if key == "agentplane-error-details-bin":
            details = common_pb2.ErrorDetails.FromString(value)
            if details.HasField("retry_after"):
                print(f"  retry after {details.retry_after.seconds} s", file=sys.stderr)
            for violation in details.violations:
                print(f"  {violation.field}: {violation.explanation}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as failure:
        describe(failure)
        sys.exit(1)
